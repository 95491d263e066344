"""One-line error messages, and the errors the tools report that way."""
import sys
from contextlib import contextmanager
from typing import Iterator, Tuple, Type

__all__ = ['one_line', 'reported_errors', 'exit_on_reported_errors']


def one_line(err: BaseException, with_type: bool = False,
             limit: int = 0) -> str:
    """The message of ``err`` as one line.

    An error re-raised from a dataloader worker carries the worker's
    traceback: its last line is the original message, and that is used.
    ``with_type`` gives ``TypeName: <first line>`` instead (what a table of
    failures shows); ``limit`` cuts the message to that many characters.
    """
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if with_type:
        text = lines[0] if lines else ''
        return f'{type(err).__name__}: {text[:limit] if limit else text}'
    if not lines:
        return type(err).__name__
    last = lines[-1] if len(lines) > 1 else lines[0]
    name = type(err).__name__ + ': '
    text = last[len(name):] if last.startswith(name) else last
    return text[:limit] if limit else text


def reported_errors() -> Tuple[Type[BaseException], ...]:
    """The errors that tools report as ``error: <one line>``: bad
    checkpoints, dataset configs, images and resume states, failed writes."""
    from ..checkpoint.io import CheckpointMismatchError, CheckpointReadError
    from ..datasets.checks import DatasetConfigError
    from ..datasets.transforms import CorruptImageError
    from ..engine.distributed import (CollectiveTimeoutError,
                                      RepeatedFailureError)
    from ..engine.hooks.nonfinite_loss_hook import NonFiniteLossError
    from ..engine.resume import ResumeError
    from .fileio import AtomicWriteError
    return (CheckpointReadError, CheckpointMismatchError, DatasetConfigError,
            AtomicWriteError, CorruptImageError, ResumeError,
            NonFiniteLossError, CollectiveTimeoutError, RepeatedFailureError)


@contextmanager
def exit_on_reported_errors() -> Iterator[None]:
    """Turn the errors of :func:`reported_errors` into ``error: <message>``
    on stderr and exit status 1. A collective of a distributed run that
    timed out or lost a rank is one of them (the rank that stopped answering
    named), reported by one rank only: the others exit with status 1 and no
    message."""
    from ..engine.distributed import explain_collective_error
    try:
        yield
    except reported_errors() as err:
        if getattr(err, 'report', True):
            sys.exit(f'error: {one_line(err)}')
        sys.exit(1)
    except Exception as err:
        explained = explain_collective_error(err)
        if explained is None:
            raise
        if explained.report:
            sys.exit(f'error: {one_line(explained)}')
        sys.exit(1)
