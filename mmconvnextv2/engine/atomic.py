"""Atomic file writes: a file on disk is either complete or absent.

The data goes to a hidden temporary file in the destination's folder, is
flushed and fsynced, and is then renamed over the destination (``os.replace``
is atomic within a filesystem); the folder is fsynced so that the rename
survives a power cut. If anything fails part-way (a full disk, a file size
limit, an interrupt), the temporary file is removed, the previous file under
that name is left as it was, and :class:`AtomicWriteError` names the path and
the operating system's error.

:class:`AtomicLocalBackend` is mmengine's local file backend with ``put`` and
``put_text`` made atomic; it is registered as ``backend='atomic_local'`` so a
checkpoint hook's ``backend_args`` can select it.
"""
import errno
import os
import os.path as osp
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

__all__ = ['AtomicWriteError', 'write_atomically', 'AtomicLocalBackend',
           'TMP_MARK']

#: Temporary files are named ``.<name>.<random>.tmp-atomic`` beside the target.
TMP_MARK = '.tmp-atomic'


class AtomicWriteError(OSError):
    """Writing a file failed; the previous file (if any) is intact."""


def _fsync_dir(folder: str) -> None:
    """Persist a rename in ``folder`` (not possible on every platform)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, data: memoryview) -> None:
    """``os.write`` until every byte is written (short writes happen)."""
    while len(data):
        written = os.write(fd, data)
        if written == 0:  # pragma: no cover - not seen on local filesystems
            raise OSError(errno.EIO, 'write returned 0 bytes')
        data = data[written:]


def write_atomically(path: Union[str, Path], data: Union[bytes, str],
                     encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``path`` so that ``path`` is never half-written.

    Args:
        path: Destination file; its folder is created if missing.
        data: Bytes, or text encoded with ``encoding``.
        encoding: Encoding of text ``data``.

    Raises:
        AtomicWriteError: The write, fsync or rename failed; the message
            names ``path`` and the OS error, and the temporary file is gone.
    """
    path = os.fspath(path)
    if isinstance(data, str):
        data = data.encode(encoding)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.'
                   f'{os.urandom(4).hex()}{TMP_MARK}')
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _write_all(fd, memoryview(data))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise AtomicWriteError(
                err.errno, f'could not write {path}: {err.strerror or err} '
                f'(the previous file, if any, is unchanged)') from err
        raise
    _fsync_dir(folder)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose writes are atomic."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically."""
        write_atomically(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically."""
        write_atomically(filepath, obj, encoding)


register_backend('atomic_local', AtomicLocalBackend, force=True)
