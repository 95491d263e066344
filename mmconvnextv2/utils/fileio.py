"""Atomic file writes: a file on disk is either complete or absent.

The data goes to a hidden temporary file in the destination's folder, is
flushed and fsynced, and is then renamed over the destination (``os.replace``
is atomic within a filesystem); the folder is fsynced so that the rename
survives a power cut. If anything fails part-way (a full disk, a file size
limit, an interrupt), the temporary file is removed, the previous file under
that name is left as it was, and :class:`AtomicWriteError` names the path and
the operating system's error.

Also here: JSON written the same way, and mmengine's ``last_checkpoint``
pointer read back.
"""
import errno
import json
import os
import os.path as osp
from pathlib import Path
from typing import Any, Callable, Optional, Union

from .errors import reported


__all__ = ['AtomicWriteError', 'write_atomically', 'write_via_temp',
           'TMP_MARK', 'write_json',
           'read_json', 'POINTER', 'read_pointer']

#: Temporary files are named ``.<name>.<random>.tmp-atomic`` beside the target.
TMP_MARK = '.tmp-atomic'


@reported
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


def _replace_via_temp(path: str, fill: Callable[[str], None],
                      suffix: str = '') -> None:
    """The one mechanism: ``fill(tmp)`` a hidden temporary file beside
    ``path`` (ending in ``suffix``), fsync it, rename it over ``path``, fsync
    the folder; on any failure the temporary file is removed and ``path`` is
    left as it was."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.'
                   f'{os.urandom(4).hex()}{TMP_MARK}{suffix}')
    try:
        fill(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


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
    payload = memoryview(data.encode(encoding) if isinstance(data, str)
                         else data)

    def fill(tmp: str) -> None:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _write_all(fd, payload)
        finally:
            os.close(fd)

    try:
        _replace_via_temp(path, fill)
    except OSError as err:
        raise AtomicWriteError(
            err.errno, f'could not write {path}: {err.strerror or err} '
            f'(the previous file, if any, is unchanged)') from err


def write_via_temp(path: Union[str, Path],
                   write: Callable[[str], None]) -> None:
    """``write(tmp)`` a temporary file beside ``path`` (same extension, for
    writers that infer the format from it), fsync it, then rename it over
    ``path``: for writers that need a path (``torch.save``, safetensors,
    Pillow). On failure the temporary file is removed and ``path`` is left as
    it was."""
    path = os.fspath(path)
    _replace_via_temp(path, write, osp.splitext(path)[1])


def write_json(path: Union[str, Path], data: Any, indent: int = 2) -> None:
    """Write ``data`` as JSON to ``path`` atomically."""
    write_atomically(path, json.dumps(data, indent=indent, default=str))


def read_json(path: Union[str, Path]) -> Optional[Any]:
    """The JSON in ``path``; None when it is absent or not valid JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


#: mmengine's pointer file in a work dir, holding the newest checkpoint's path.
POINTER = 'last_checkpoint'


def read_pointer(work_dir: Union[str, Path],
                 must_exist: bool = False) -> Optional[str]:
    """The checkpoint path named by ``work_dir/last_checkpoint``; None
    without a pointer (or, with ``must_exist``, when the named file is gone)."""
    try:
        with open(osp.join(work_dir, POINTER)) as f:
            path = f.read().strip()
    except OSError:
        return None
    if not path or (must_exist and not osp.isfile(path)):
        return None
    return path
