"""Stop (or skip) a training step whose loss is NaN or Inf, before the
optimizer step, so that the weights and every checkpoint stay finite.

:class:`NonFiniteLossHook` wraps the model's ``parse_losses`` (which every
OpenMMLab model's ``train_step`` calls between the forward pass and
``optim_wrapper.update_params``; mmengine has no hook point there, so
:mod:`mmconvnextv2.engine.wiring` attaches it): when the summed loss is not
finite on any rank (the ranks agree through
:func:`mmconvnextv2.engine.distributed.any_rank`), training stops with a
:class:`NonFiniteLossError` naming the iteration and the loss terms, or,
while fewer than ``max_skips`` steps were skipped, the step is skipped (no
backward pass, no optimizer step) with a warning. A checkpoint is refused if
the weights it would hold are not finite (checked on every rank, before
rank 0 writes it). fp16 AMP (``AmpOptimWrapper`` with its loss scaler)
keeps its own handling: the scaler skips such steps.
"""
import functools
import os
from typing import Callable, Dict, List, Optional

import torch
import torch.distributed as torch_dist
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...utils.errors import reported
from ..distributed import any_rank, is_distributed
from ..wiring import before_every_save, replace_attribute

__all__ = ['NonFiniteLossError', 'NonFiniteLossHook', 'SKIPS_KEY',
           'SKIPS_ENV', 'nonfinite_skips']

SKIPS_KEY = 'max_nonfinite_skips'
SKIPS_ENV = 'MMCNV2_MAX_NONFINITE_SKIPS'


@reported
class NonFiniteLossError(RuntimeError):
    """A loss (or the weights about to be saved) became NaN or Inf.

    Every rank raises it; ``report`` is True on rank 0 only, so that a run
    prints it once."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.report = not is_distributed() or torch_dist.get_rank() == 0


class _SkipStep(Exception):
    """Raised inside ``train_step`` to leave out the optimizer step."""


def nonfinite_skips(cfg) -> int:
    """How many non-finite steps a run may skip: ``MMCNV2_MAX_NONFINITE_SKIPS``
    if set, else the config's ``max_nonfinite_skips``, else 0 (stop at the
    first)."""
    value = os.environ.get(SKIPS_ENV, '').strip() or cfg.get(SKIPS_KEY, 0)
    try:
        skips = int(value)
    except (TypeError, ValueError):
        skips = -1
    if skips < 0:
        raise ValueError(f'{SKIPS_ENV} / {SKIPS_KEY} must be a whole number '
                         f'>= 0, got {value!r}')
    return skips


def _format(value: torch.Tensor) -> str:
    value = float(value.detach().float().mean())
    return str(value)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop at, or skip up to ``max_skips``, non-finite training losses.

    Args:
        max_skips: Steps with a non-finite loss to skip (each logged) before
            stopping; 0 stops at the first.
    """

    priority = 'VERY_HIGH'

    def __init__(self, max_skips: int = 0) -> None:
        self.max_skips = max_skips
        self.skipped: List[int] = []
        self._undo: List[Callable[[], None]] = []

    # ------------------------------------------------------------ wiring
    def before_train(self, runner) -> None:
        if self._amp_scaler_handles(runner.optim_wrapper):
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        self._undo.append(replace_attribute(
            model, 'parse_losses',
            self._checked_parse_losses(runner, model.parse_losses),
            'BaseModel.parse_losses'))
        self._undo.append(replace_attribute(
            runner.model, 'train_step',
            self._skippable_train_step(runner.model.train_step),
            'BaseModel.train_step'))

    def after_train(self, runner) -> None:
        while self._undo:
            self._undo.pop()()

    @staticmethod
    def _amp_scaler_handles(optim_wrapper) -> bool:
        """fp16 AMP: the loss scaler already skips non-finite steps."""
        from mmengine.optim import AmpOptimWrapper
        wrappers = getattr(optim_wrapper, 'values', lambda: [optim_wrapper])()
        return any(isinstance(w, AmpOptimWrapper) and getattr(
            w, 'cast_dtype', None) in (None, torch.float16)
            for w in wrappers)

    # ------------------------------------------------------------ checks
    def _checked_parse_losses(self, runner, parse_losses: Callable
                              ) -> Callable:
        @functools.wraps(parse_losses)
        def checked(losses: Dict):
            loss, log_vars = parse_losses(losses)
            bad = not bool(torch.isfinite(loss.detach()).all())
            if any_rank(bad, loss.device):
                self._non_finite(runner, log_vars if bad else None)
            return loss, log_vars
        return checked

    @staticmethod
    def _skippable_train_step(train_step: Callable) -> Callable:
        @functools.wraps(train_step)
        def step(*args, **kwargs):
            try:
                return train_step(*args, **kwargs)
            except _SkipStep:
                return {}
        return step

    def _non_finite(self, runner, log_vars: Optional[Dict]) -> None:
        """Stop or skip; ``log_vars`` is None on ranks whose loss is
        finite."""
        terms = [] if log_vars is None else [
            f'{name} = {_format(value)}' for name, value in log_vars.items()
            if name != 'loss' and 'loss' in name and isinstance(
                value, torch.Tensor) and not bool(torch.isfinite(
                    value.detach()).all())]
        if log_vars is not None and not terms:
            terms = [f'loss = {_format(log_vars["loss"])}']
        rank = torch_dist.get_rank() if is_distributed() else 0
        found = [(rank, terms)]
        if is_distributed():
            gathered: List = [None] * torch_dist.get_world_size()
            torch_dist.all_gather_object(gathered, (rank, terms))
            found = [item for item in gathered if item and item[1]]
        where = '; '.join(
            ', '.join(t) + (f' (rank {r})' if is_distributed() else '')
            for r, t in found)
        iteration = runner.iter + 1
        if len(self.skipped) < self.max_skips:
            self.skipped.append(iteration)
            print_log(
                f'non-finite loss at iteration {iteration}: {where}; step '
                f'skipped ({len(self.skipped)} of at most {self.max_skips}, '
                f'{SKIPS_KEY})', logger='current', level=30)
            raise _SkipStep()
        last = runner.message_hub.get_info('last_ckpt')
        newest = (f'the newest checkpoint, {last}, holds the last finite '
                  'weights' if last else 'no checkpoint was written')
        skipped = (f' after skipping {len(self.skipped)} such steps '
                   f'(at iterations {", ".join(map(str, self.skipped))})'
                   if self.skipped else '')
        raise NonFiniteLossError(
            f'non-finite loss at iteration {iteration}: {where}; training '
            f'stopped before the optimizer step{skipped} and {newest} (to '
            f'skip up to K such steps set {SKIPS_KEY}=K or {SKIPS_ENV}=K)')

    def before_run(self, runner) -> None:
        before_every_save(runner, 'finite weights',
                          lambda: self._check_weights(runner))

    def _check_weights(self, runner) -> None:
        """Refuse (on every rank) to save weights that are not finite."""
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        bad = [name for name, value in model.state_dict().items()
               if isinstance(value, torch.Tensor) and value.is_floating_point()
               and not bool(torch.isfinite(value).all())]
        device = next(iter(model.parameters()), torch.empty(0)).device
        if any_rank(bool(bad), device):
            raise NonFiniteLossError(
                f'the weights at iteration {runner.iter + 1} are not finite '
                f'({", ".join(bad[:3]) or "on another rank"}'
                f'{" ..." if len(bad) > 3 else ""}); not saved: the newest '
                'checkpoint stays the last finite one')
