"""Random states in checkpoints: :class:`RandomStateHook` stores the Python,
numpy and torch random states in every checkpoint and puts them back where
the resumed run fetches its first new batch, so an iteration-based run
interrupted and resumed ends with the parameters of an uninterrupted run of
the same seed (single process, ``num_workers=0``: dataloader worker
processes and other ranks keep random states of their own that are not
saved)."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

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


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the random states in checkpoints; restore them on resume."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._loaded: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = _get_random_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get('random_state')

    def before_train(self, runner) -> None:
        state, self._loaded = self._loaded, None
        if state is None or runner.iter == 0:
            return  # not a resumed run (load_from fine-tunes)
        if get_world_size() > 1:
            print_log('resumed with several processes: the random states are'
                      ' not restored (only rank 0\'s are saved)',
                      logger='current', level=30)
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # iteration-based loop
            loop.dataloader_iterator = _RestoreBeforeFetch(
                loop.dataloader_iterator, runner.iter, state)
        else:  # epoch-based: the resumed epoch starts from its beginning
            self._epoch_state = state

    def before_train_epoch(self, runner) -> None:
        state = getattr(self, '_epoch_state', None)
        if state is not None:
            _set_random_state(state)
            self._epoch_state = None
