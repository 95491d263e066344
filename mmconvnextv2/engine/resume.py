"""Resuming: pick a readable checkpoint, and continue exactly.

:func:`find_resume_checkpoint` is what ``--resume`` (without a path) loads:
the checkpoint ``last_checkpoint`` names, or, when that file is damaged, the
newest readable checkpoint beside it, with one warning naming the damaged
file and why. :func:`check_resume_checkpoint` stops with a one-line error
when an explicitly given checkpoint is damaged.

The random states are saved and restored by
:class:`mmconvnextv2.engine.hooks.RandomStateHook`.
"""
import glob
import os
import os.path as osp
import re
import zipfile
from typing import Iterator, List, Optional, Tuple

import torch
from mmengine.logging import print_log

from ..utils.errors import reported
from ..utils.fileio import POINTER, TMP_MARK
from ..utils.paths import is_remote

__all__ = ['ResumeError', 'checkpoint_problem', 'find_resume_checkpoint',
           'checkpoint_seed', 'check_resume_checkpoint',
           'remove_stale_temporaries']


@reported
class ResumeError(RuntimeError):
    """No checkpoint that ``--resume`` may load could be read."""


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be read as a checkpoint, or None if it can.

    A torch zip checkpoint is checked without unpickling it: its archive
    directory must be present and every member must match its CRC (this
    catches truncated and corrupted files). Other files are read in full.
    """
    if not osp.isfile(path):
        return 'file not found'
    size = osp.getsize(path)
    if size == 0:
        return 'empty file (0 bytes)'
    with open(path, 'rb') as f:
        magic = f.read(4)
    if magic == b'PK\x03\x04':
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
            return f'truncated or damaged ({size} bytes): {err}'
        if bad is not None:
            return f'damaged: member {bad} fails its CRC check'
        if not any(n.endswith('data.pkl') for n in names):
            return 'not a torch checkpoint (no data.pkl in the archive)'
        return None
    from ..checkpoint.io import read_checkpoint
    try:
        read_checkpoint(path)
    except Exception as err:  # any failure makes it unusable
        return str(err).splitlines()[0] if str(err) else type(err).__name__
    return None


def _step_of(path: str) -> int:
    found = re.findall(r'(\d+)', osp.basename(path))
    return int(found[-1]) if found else -1


def _candidates(work_dir: str) -> Iterator[str]:
    """The pointer's checkpoint, then every ``*.pth`` beside it or in the
    work dir, newest first (modification time, then the number in the
    name)."""
    named = None
    pointer = osp.join(work_dir, POINTER)
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip() or None
    if named:
        yield named
    folders = {osp.abspath(work_dir)}
    if named and not is_remote(named):
        folders.add(osp.abspath(osp.dirname(named) or '.'))
    found = []
    for folder in folders:
        for path in glob.glob(osp.join(folder, '*.pth')):
            if named is None or osp.abspath(path) != osp.abspath(named):
                found.append(path)
    found.sort(key=lambda p: (osp.getmtime(p), _step_of(p)), reverse=True)
    yield from found


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` loads from ``work_dir``; None if there is
    none (a fresh start).

    Raises:
        ResumeError: Checkpoints exist but none is readable; the one-line
            message lists every file tried and why.
    """
    tried: List[Tuple[str, str]] = []
    for path in _candidates(work_dir):
        if is_remote(path):
            return path  # left to the loader
        why = checkpoint_problem(path)
        if why is None:
            if tried:
                print_log(
                    'cannot resume from ' + '; '.join(
                        f'{p} ({w})' for p, w in tried) +
                    f': resuming from {path}, the newest readable checkpoint',
                    logger='current', level=30)
            return path
        tried.append((path, why))
    if tried:
        raise ResumeError(
            f'no readable checkpoint to resume from in {work_dir}; tried: ' +
            '; '.join(f'{p} ({w})' for p, w in tried))
    return None


def checkpoint_seed(path: str) -> Optional[int]:
    """The ``meta.seed`` of a local training checkpoint, or None (no seed,
    or not readable). Weights-only; the tensors are memory-mapped, not
    read."""
    if is_remote(path):
        return None
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True,
                          mmap=True)
    except Exception:  # the real load reports what is wrong
        return None
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    seed = meta.get('seed') if isinstance(meta, dict) else None
    return seed if isinstance(seed, int) else None


def check_resume_checkpoint(path: str) -> None:
    """Raise a one-line :class:`ResumeError` if the local ``path`` given to
    ``--resume`` cannot be read."""
    if is_remote(path):
        return
    why = checkpoint_problem(path)
    if why is not None:
        raise ResumeError(f'cannot resume from {path}: {why}')


def remove_stale_temporaries(folder: str) -> List[str]:
    """Delete temporary files that killed writers left in ``folder`` (their
    process is gone); return their paths."""
    removed = []
    for path in glob.glob(osp.join(folder, f'.*{TMP_MARK}')):
        parts = osp.basename(path).split('.')
        pid = int(parts[-3]) if len(parts) >= 4 and parts[-3].isdigit() else 0
        if pid == os.getpid():
            continue
        try:
            if pid:
                os.kill(pid, 0)
                continue  # the writer still runs
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        try:
            os.remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed
