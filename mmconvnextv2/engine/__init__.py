"""Nothing lost: atomic checkpoints, resume that falls back past damaged
files, preemption-safe training, elastic restarts that resume, collective
timeouts that name the silent rank and non-finite losses that stop. Every Runner built by
:func:`mmconvnextv2.runtime.build_runner` uses them (:func:`make_reliable`).

The hooks use mmengine's public hook points; the few attachments that have
none are in :mod:`mmconvnextv2.engine.wiring`, checked against the installed
mmengine."""
from .distributed import (DEFAULT_DIST_TIMEOUT, CollectiveTimeoutError,
                          restart_count, set_dist_timeout)
from .file_backend import AtomicLocalBackend
from .hooks.dist_watchdog_hook import explain_collective_error
from .hooks import (PREEMPTED_EXIT_CODE, AtomicCheckpointHook,
                    DistWatchdogHook, NonFiniteLossError, NonFiniteLossHook,
                    PreemptionHook, RandomStateHook, save_checkpoint_now)
from .resume import (ResumeError, check_resume_checkpoint, checkpoint_problem,
                     find_resume_checkpoint)
from .runner_config import make_reliable

__all__ = [
    'AtomicLocalBackend', 'AtomicCheckpointHook', 'save_checkpoint_now',
    'PREEMPTED_EXIT_CODE', 'PreemptionHook', 'RandomStateHook', 'ResumeError',
    'check_resume_checkpoint', 'checkpoint_problem', 'find_resume_checkpoint',
    'make_reliable', 'DEFAULT_DIST_TIMEOUT', 'CollectiveTimeoutError',
    'explain_collective_error', 'restart_count', 'set_dist_timeout',
    'DistWatchdogHook', 'NonFiniteLossError', 'NonFiniteLossHook'
]
