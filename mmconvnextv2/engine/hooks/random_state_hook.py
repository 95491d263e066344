"""Random states in checkpoints: :class:`RandomStateHook` stores the Python,
numpy and torch random states of every rank in every checkpoint and puts
each rank's own back where the resumed run fetches its first new batch, so
an iteration-based run interrupted and resumed ends with the parameters of
an uninterrupted run of the same seed, with one process or several.

With several processes the checkpoint (written by rank 0) also keeps the
buffers of the other ranks that differ from rank 0's (BatchNorm running
statistics: ``MMDistributedDataParallel`` does not broadcast buffers, so
each rank keeps its own), and each rank gets its own back on resume.
Dataloader worker processes (``num_workers > 0``) keep random states of
their own that are not saved (mmengine seeds them again, see the README).

Two points have no mmengine hook, so :mod:`mmconvnextv2.engine.wiring`
attaches them: the gathering of every rank's states before rank 0 saves,
and the restore between the resumed loop's skipped batches and its first
new one (the loop's ``dataloader_iterator``).
"""
import random
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.model import is_model_wrapper
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

from ..distributed import is_distributed
from ..wiring import before_every_save, replace_attribute

__all__ = ['RandomStateHook']


def _get_random_state() -> dict:
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(python=random.getstate(),
                 numpy=(name, torch.from_numpy(keys.astype(np.int64)), pos,
                        has_gauss, gauss),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _set_random_state(state: dict) -> None:
    random.setstate(state['python'])
    name, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos,
                         has_gauss, gauss))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreBeforeFetch:
    """Wraps a dataloader iterator: sets the saved random state just before
    the batch ``skip + 1`` is fetched (after the resumed loop skipped the
    ``skip`` batches it already trained on)."""

    def __init__(self, iterator, skip: int, state: dict) -> None:
        self._iterator, self._skip, self._state = iterator, skip, state
        self._fetched = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self._fetched == self._skip and self._state is not None:
            _set_random_state(self._state)
            self._state = None
        self._fetched += 1
        return next(self._iterator)

    def __getattr__(self, name: str):
        return getattr(self._iterator, name)


def _rank_buffers(runner) -> Dict[str, torch.Tensor]:
    """This rank's persistent floating-point buffers (BatchNorm running
    statistics ...), on the CPU."""
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    names = set(model.state_dict().keys())
    return {name: buf.detach().cpu().clone()
            for name, buf in model.named_buffers()
            if name in names and buf.is_floating_point()}


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save every rank's random states (and, with several processes, the
    other ranks' buffers) in checkpoints; restore each rank's on resume."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._loaded: Optional[dict] = None
        self._buffers: Optional[Dict[str, torch.Tensor]] = None
        self._gathered: Optional[tuple] = None

    def before_run(self, runner) -> None:
        if is_distributed():
            before_every_save(runner, 'random states',
                              lambda: self._gather(runner))

    def _gather(self, runner) -> None:
        """Every rank's random states and buffers (on every rank)."""
        states: List[dict] = all_gather_object(_get_random_state())
        buffers: List[Optional[dict]] = all_gather_object(
            None if get_rank() == 0 else _rank_buffers(runner))
        self._gathered = (states, buffers)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        gathered, self._gathered = self._gathered, None
        checkpoint['random_state'] = _get_random_state()
        if gathered is None:
            return  # one process (or a save outside save_checkpoint)
        states, buffers = gathered
        checkpoint['random_state'] = states[0]
        checkpoint['random_states'] = states
        reference = checkpoint.get('state_dict') or {}
        checkpoint['rank_buffers'] = [
            None if own is None else {
                name: value for name, value in own.items()
                if name not in reference or not torch.equal(
                    value, reference[name].to(value.device))}
            for own in buffers]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        world, rank = get_world_size(), get_rank()
        states = checkpoint.get('random_states')
        buffers = checkpoint.get('rank_buffers')
        self._buffers = None
        if world == 1:
            self._loaded = checkpoint.get('random_state')
            if states and len(states) > 1:
                print_log(f'resuming a {len(states)}-process run with one '
                          'process: rank 0\'s random states restored',
                          logger='current', level=30)
        elif states and len(states) == world:
            self._loaded = states[rank]
            if buffers and len(buffers) == world:
                self._buffers = buffers[rank] or None
        else:
            self._loaded = None
            saved = f'{len(states)} processes' if states else \
                'rank 0 only (an older checkpoint)'
            print_log(f'resuming with {world} processes: the random states '
                      f'are not restored (the checkpoint holds those of '
                      f'{saved})', logger='current', level=30)

    def before_train(self, runner) -> None:
        state, self._loaded = self._loaded, None
        buffers, self._buffers = self._buffers, None
        if state is None or runner.iter == 0:
            return  # not a resumed run (load_from fine-tunes)
        if buffers:
            model = runner.model.module if is_model_wrapper(runner.model) \
                else runner.model
            own = dict(model.named_buffers())
            with torch.no_grad():
                for name, value in buffers.items():
                    if name in own:
                        own[name].copy_(value.to(own[name].device))
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop) or hasattr(
                loop, 'dataloader_iterator'):  # iteration-based loop
            replace_attribute(loop, 'dataloader_iterator', _RestoreBeforeFetch(
                getattr(loop, 'dataloader_iterator', None), runner.iter,
                state), 'IterBasedTrainLoop.dataloader_iterator')
        else:  # epoch-based: the resumed epoch starts from its beginning
            self._epoch_state = state

    def before_train_epoch(self, runner) -> None:
        state = getattr(self, '_epoch_state', None)
        if state is not None:
            _set_random_state(state)
            self._epoch_state = None
