"""Preemption-safe training: SIGTERM / SIGUSR1 -> checkpoint -> exit 75.

Slurm sends SIGTERM when it preempts or cancels a job and, when asked
(``--signal=USR1@120``), SIGUSR1 some time before the time limit. On either
signal, :class:`PreemptionHook` lets the current training iteration finish,
saves a checkpoint (atomically, through the run's checkpoint hook), logs where
and exits with :data:`PREEMPTED_EXIT_CODE`; ``--resume`` continues from it.
With several processes the ranks agree (an all-reduce of the flag after each
iteration) so that all of them stop after the same iteration.
"""
import signal
import threading
from types import FrameType
from typing import Dict, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ..distributed import any_rank
from .checkpoint_hook import save_checkpoint_now

__all__ = ['PREEMPTED_EXIT_CODE', 'PREEMPTION_SIGNALS', 'PreemptionHook']

#: Exit status of a run stopped by a preemption signal after saving its
#: checkpoint (75 is ``EX_TEMPFAIL`` of sysexits.h: try again later).
PREEMPTED_EXIT_CODE = 75
PREEMPTION_SIGNALS = ('SIGTERM', 'SIGUSR1')


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Save and exit after the iteration during which a preemption signal
    arrived. Runs after every other ``after_train_iter`` hook."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.received: Optional[str] = None
        self._previous: Dict[int, object] = {}

    def _on_signal(self, signum: int, frame: Optional[FrameType]) -> None:
        self.received = signal.Signals(signum).name

    def before_train(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set in the main thread
        for name in PREEMPTION_SIGNALS:
            signum = getattr(signal, name, None)
            if signum is not None:
                self._previous[signum] = signal.signal(signum, self._on_signal)

    def after_train(self, runner) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not any_rank(self.received is not None):
            return
        path = save_checkpoint_now(runner)
        print_log(
            f'{self.received or "preemption signal on another rank"} '
            f'received: iteration {runner.iter + 1} finished, checkpoint '
            f'saved to {path}; exiting with code {PREEMPTED_EXIT_CODE} '
            '(continue with --resume)', logger='current', level=30)
        self.after_train(runner)
        raise SystemExit(PREEMPTED_EXIT_CODE)
