"""The few attachments to mmengine that no public hook point allows, in one
place, each checked against the mmengine it runs with.

Our hooks use mmengine's public callbacks (``before_train``,
``after_train_iter``, ``before_save_checkpoint`` ...) wherever those reach.
These do not:

* ``Config._get_cfg_path``: a ``mmconvnextv2::`` base read as a local base
  (:func:`route_config_prefix`; why mmengine's package table will not do is
  in :mod:`mmconvnextv2.config_prefix`);
* ``Runner.save_checkpoint``: every rank calls it, only rank 0 runs it, so
  a collective that a checkpoint needs (every rank's random states, the
  weights checked on every rank) joins before it (:func:`before_every_save`);
* ``parse_losses`` / ``train_step`` of the model: the only point between
  the loss and the optimizer step (:func:`replace_attribute`);
* ``IterBasedTrainLoop.dataloader_iterator``: the only point between the
  resumed loop's skipped batches and its first new one;
* ``CheckpointHook.file_backend``: the object through which the checkpoint
  hook deletes retired checkpoints (held back until the new one is saved);
* ``CheckpointHook._save_checkpoint``: a checkpoint now, named and kept as
  the hook's own (:func:`save_on_schedule`, the preemption save).

:data:`RELIED_ON` names each with the check of what we rely on (names,
signatures, and the names its callers use). The first attachment that uses
one runs its check and raises :class:`MMEngineChangedError`, one line, when
the installed mmengine changed it; an mmengine outside :data:`TESTED` only
warns, once.
"""
import functools
import inspect
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import mmengine
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.runner import IterBasedTrainLoop, Runner
from mmengine.utils import digit_version

from ..utils.errors import reported

__all__ = ['TESTED', 'RELIED_ON', 'MMEngineChangedError', 'require',
           'check_all', 'route_config_prefix', 'before_every_save',
           'replace_attribute', 'save_on_schedule']

#: The mmengine versions these attachments are tested with: [first, last).
TESTED = ('0.10.0', '0.11.0')

_ROUTED = '_mmconvnextv2_routes'
_CALLBACKS = '_mmconvnextv2_before_save'


@reported
class MMEngineChangedError(RuntimeError):
    """The installed mmengine changed something that mmconvnextv2 attaches
    to where mmengine has no public hook point."""


def _params(fn: Any) -> List[inspect.Parameter]:
    fn = fn.__func__ if isinstance(fn, (staticmethod, classmethod)) else fn
    return list(inspect.signature(inspect.unwrap(fn)).parameters.values())


def _member(owner: type, name: str) -> Optional[Any]:
    for klass in owner.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return None


def _names(code: Any) -> Set[str]:
    """The attribute / global names and string constants of ``code`` and
    of the code nested in it."""
    found = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, str):
            found.add(const)
        elif inspect.iscode(const):
            found |= _names(const)
    return found


#: ``(class, method, names)``: the method's code still names ``names``.
_Use = Tuple[type, str, Tuple[str, ...]]


def _uses(*uses: _Use) -> Optional[str]:
    for owner, method, names in uses:
        member = _member(owner, method)
        if member is None:
            return f'{owner.__name__}.{method} is gone'
        member = member.__func__ if isinstance(
            member, (staticmethod, classmethod)) else member
        missing = [n for n in names
                   if n not in _names(inspect.unwrap(member).__code__)]
        if missing:
            return (f'{owner.__name__}.{method} no longer uses '
                    f'{", ".join(missing)}')
    return None


def _method(owner: type, name: str, expected: List[str],
            *uses: _Use) -> Callable[[], Optional[str]]:
    """A check: ``owner.name`` exists, takes ``expected`` first and nothing
    else without a default, and each of ``uses`` holds."""
    def check() -> Optional[str]:
        member = _member(owner, name)
        if member is None:
            return 'it is gone'
        found = _params(member)
        names = [p.name for p in found]
        more = [p for p in found[len(expected):] if p.default is p.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if names[:len(expected)] != expected or more:
            return (f'its parameters are ({", ".join(names)}), not '
                    f'({", ".join(expected)}, ...)')
        return _uses(*uses)
    return check


def _attribute(*uses: _Use) -> Callable[[], Optional[str]]:
    """A check: each of ``uses`` holds (an instance attribute, set and
    read by the methods named)."""
    return lambda: _uses(*uses)


_SAVE_WITH_STEP = '_save_checkpoint_with_step'

#: What each attachment relies on: name -> (what for, the check).
RELIED_ON: Dict[str, Tuple[str, Callable[[], Optional[str]]]] = {
    'Config._get_cfg_path': (
        'the mmconvnextv2:: config prefix',
        _method(Config, '_get_cfg_path', ['cfg_path', 'filename'],
                (Config, '_file2dict', ('_get_cfg_path', )))),
    'Runner.save_checkpoint': (
        'collectives before rank 0 saves a checkpoint',
        _method(Runner, 'save_checkpoint', ['self', 'out_dir', 'filename'],
                (Runner, 'save_checkpoint', ('before_save_checkpoint', )),
                (CheckpointHook, _SAVE_WITH_STEP, ('save_checkpoint', )),
                (CheckpointHook, '_save_best_checkpoint',
                 ('save_checkpoint', )))),
    'BaseModel.parse_losses': (
        'stopping a non-finite loss before the optimizer step',
        _method(BaseModel, 'parse_losses', ['self', 'losses'],
                (BaseModel, 'train_step', ('parse_losses', 'update_params')),
                (MMDistributedDataParallel, 'train_step',
                 ('parse_losses', 'update_params')))),
    'BaseModel.train_step': (
        'skipping a step with a non-finite loss',
        _method(BaseModel, 'train_step', ['self', 'data', 'optim_wrapper'],
                (IterBasedTrainLoop, 'run_iter', ('train_step', )))),
    'IterBasedTrainLoop.dataloader_iterator': (
        'restoring the random states before the first batch of a resumed run',
        _attribute((IterBasedTrainLoop, '__init__', ('dataloader_iterator', )),
                   (IterBasedTrainLoop, 'run', ('dataloader_iterator', )))),
    'CheckpointHook.file_backend': (
        'deleting a retired checkpoint only after the new one is saved',
        _attribute((CheckpointHook, 'before_train', ('file_backend', )),
                   (CheckpointHook, _SAVE_WITH_STEP,
                    ('file_backend', 'remove', 'save_checkpoint',
                     'last_checkpoint')))),
    'CheckpointHook._save_checkpoint': (
        'the preemption checkpoint of an iteration-based run',
        _method(CheckpointHook, '_save_checkpoint', ['self', 'runner'],
                (CheckpointHook, '_save_checkpoint', (_SAVE_WITH_STEP, )),
                (CheckpointHook, _SAVE_WITH_STEP, ('last_ckpt', )))),
}

_checked: Dict[str, Optional[str]] = {}
_warned: List[str] = []


def _version_note() -> None:
    version = mmengine.__version__
    low, high = (digit_version(v) for v in TESTED)
    if not low <= digit_version(version) < high and not _warned:
        _warned.append(version)
        print_log(f'mmconvnextv2 is tested with mmengine {TESTED[0]} to '
                  f'<{TESTED[1]}, not {version}: its attachments '
                  '(mmconvnextv2/engine/wiring.py) are checked by name and '
                  'signature only', logger='current', level=30)


def require(*names: str) -> None:
    """Check (once per process) what the attachments ``names`` rely on.

    Raises:
        MMEngineChangedError: The installed mmengine changed one of them.
    """
    _version_note()
    for name in names:
        if name not in _checked:
            _checked[name] = RELIED_ON[name][1]()
        problem = _checked[name]
        if problem:
            raise MMEngineChangedError(
                f'mmengine {mmengine.__version__} changed {name} ({problem}); '
                f'mmconvnextv2 attaches there for {RELIED_ON[name][0]} '
                f'(tested with mmengine {TESTED[0]} to <{TESTED[1]}; see '
                'mmconvnextv2/engine/wiring.py)')


def check_all() -> None:
    """:func:`require` every entry of :data:`RELIED_ON`, checked afresh."""
    _checked.clear()
    require(*RELIED_ON)


def route_config_prefix(prefix: str, resolve: Callable[[str], str]) -> None:
    """Make ``Config`` read a base that starts with ``prefix`` from
    ``resolve(path)``, as a local base (no ``_scope_`` tag); other paths go
    to mmengine unchanged. Idempotent."""
    require('Config._get_cfg_path')
    current = Config.__dict__['_get_cfg_path']
    current = current.__func__ if isinstance(current, staticmethod) \
        else current
    routes: Optional[Dict[str, Callable[[str], str]]] = getattr(
        current, _ROUTED, None)
    if routes is None:
        original, routes = current, {}

        @functools.wraps(original)
        def _get_cfg_path(cfg_path: str,
                          filename: str) -> Tuple[str, Optional[str]]:
            for start, route in routes.items():
                if cfg_path.startswith(start):
                    return route(cfg_path), None
            return original(cfg_path, filename)

        setattr(_get_cfg_path, _ROUTED, routes)
        Config._get_cfg_path = staticmethod(_get_cfg_path)
    routes[prefix] = resolve


def before_every_save(runner: Runner, key: str,
                      callback: Callable[[], None]) -> None:
    """Call ``callback()`` on every rank before each
    ``runner.save_checkpoint`` (which the checkpoint hooks call on every
    rank and mmengine runs on rank 0 only), in the order registered; a
    second registration under ``key`` replaces the first."""
    require('Runner.save_checkpoint')
    current = vars(runner).get('save_checkpoint')
    callbacks: Optional[Dict[str, Callable[[], None]]] = getattr(
        current, _CALLBACKS, None)
    if callbacks is None:
        save, callbacks = runner.save_checkpoint, {}

        @functools.wraps(save)
        def save_checkpoint(*args, **kwargs):
            for before in list(callbacks.values()):
                before()
            return save(*args, **kwargs)

        setattr(save_checkpoint, _CALLBACKS, callbacks)
        runner.save_checkpoint = save_checkpoint
    callbacks[key] = callback


def replace_attribute(owner: object, name: str, value: Any,
                      relies_on: str) -> Callable[[], None]:
    """Set ``owner.name = value``, an attachment named ``relies_on`` in
    :data:`RELIED_ON`; return the function that puts the old one back.

    Raises:
        MMEngineChangedError: ``owner`` has no ``name`` or the check of
            ``relies_on`` fails.
    """
    require(relies_on)
    if not hasattr(owner, name):
        raise MMEngineChangedError(
            f'mmengine {mmengine.__version__}: {type(owner).__name__} has '
            f'no {name} ({relies_on}); mmconvnextv2 attaches there for '
            f'{RELIED_ON[relies_on][0]} (see mmconvnextv2/engine/wiring.py)')
    had = name in vars(owner)
    previous = vars(owner).get(name)
    setattr(owner, name, value)

    def undo() -> None:
        if had:
            setattr(owner, name, previous)
        else:
            delattr(owner, name)
    return undo


def save_on_schedule(hook: CheckpointHook, runner: Runner) -> None:
    """Let ``hook`` save the checkpoint of the current iteration now, as its
    own interval would (its file name, ``max_keep_ckpts``, the pointer)."""
    require('CheckpointHook._save_checkpoint')
    hook._save_checkpoint(runner)
