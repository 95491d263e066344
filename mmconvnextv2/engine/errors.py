"""The errors the tools report as one line instead of a traceback."""
import sys
from contextlib import contextmanager
from typing import Iterator, Tuple, Type

from ..checkpoint.io import CheckpointMismatchError, CheckpointReadError
from ..datasets.checks import DatasetConfigError
from .atomic import AtomicWriteError
from .image_loading import CorruptImageError
from .resume import ResumeError

__all__ = ['REPORTED_ERRORS', 'one_line', 'exit_on_reported_errors']

REPORTED_ERRORS: Tuple[Type[BaseException], ...] = (
    CheckpointReadError, CheckpointMismatchError, DatasetConfigError,
    AtomicWriteError, CorruptImageError, ResumeError)


def one_line(err: BaseException) -> str:
    """The message of ``err`` as one line. An error re-raised from a
    dataloader worker carries the worker's traceback: its last line is
    the original message."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    last = lines[-1] if len(lines) > 1 else lines[0]
    name = type(err).__name__ + ': '
    return last[len(name):] if last.startswith(name) else last


@contextmanager
def exit_on_reported_errors() -> Iterator[None]:
    """Turn the errors of :data:`REPORTED_ERRORS` into ``error: <message>``
    on stderr and exit status 1."""
    try:
        yield
    except REPORTED_ERRORS as err:
        sys.exit(f'error: {one_line(err)}')
