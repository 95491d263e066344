"""mmengine's local file backend with ``put`` and ``put_text`` made atomic
(:func:`mmconvnextv2.utils.write_atomically`), registered as
``backend='atomic_local'`` so a checkpoint hook's ``backend_args`` can select it."""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from ..utils.fileio import write_atomically

__all__ = ['AtomicLocalBackend']


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
