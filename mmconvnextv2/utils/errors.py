"""One-line error messages, and the errors the tools report that way."""
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional, Tuple, Type

__all__ = ['one_line', 'reported', 'explains', 'reported_errors',
           'exit_on_reported_errors']


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


#: The error types the tools report as one line, registered by the modules
#: that define them (:func:`reported`), so that this module imports none.
_REPORTED: List[Type[BaseException]] = []
#: Functions that turn another exception into a reported one, or None.
_EXPLAINERS: List[Callable[[BaseException], Optional[BaseException]]] = []

def reported(cls: type) -> type:
    """Class decorator: the tools report ``cls`` (and its subclasses) as
    ``error: <one line>`` instead of a traceback."""
    _REPORTED.append(cls)
    return cls


def explains(fn: Callable[[BaseException], Optional[BaseException]]
             ) -> Callable[[BaseException], Optional[BaseException]]:
    """Register ``fn``: it maps an exception of another kind (a failed
    collective ...) to a reported error, or returns None."""
    _EXPLAINERS.append(fn)
    return fn


def reported_errors() -> Tuple[Type[BaseException], ...]:
    """The errors that tools report as ``error: <one line>``: bad
    checkpoints, dataset configs, images and resume states, failed writes,
    non-finite losses, lost ranks (every type registered with
    :func:`reported`)."""
    return tuple(_REPORTED)


def _explain(err: BaseException) -> Optional[BaseException]:
    for fn in _EXPLAINERS:
        explained = fn(err)
        if explained is not None:
            return explained
    return None


@contextmanager
def exit_on_reported_errors() -> Iterator[None]:
    """Turn the errors of :func:`reported_errors` into ``error: <message>``
    on stderr and exit status 1. Another exception that a registered
    explainer maps to a reported error (a collective of a distributed run
    that timed out or lost a rank) is reported the same way. An error with
    ``report = False`` (the ranks that did not see the cause) exits with
    status 1 and no message."""
    try:
        yield
    except Exception as err:  # noqa: BLE001  (re-raised unless reported)
        shown = err if isinstance(err, reported_errors()) else _explain(err)
        if shown is None:
            raise
        if getattr(shown, 'report', True):
            sys.exit(f'error: {one_line(shown)}')
        sys.exit(1)
