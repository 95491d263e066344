"""Nothing lost: atomic checkpoints, resume that falls back past damaged
files, preemption-safe training and clear errors for corrupt images. Every
Runner built by :func:`mmconvnextv2.runtime.build_runner` uses them
(:func:`make_reliable`)."""
from .atomic import AtomicLocalBackend, AtomicWriteError, write_atomically
from .checkpoint_hook import AtomicCheckpointHook, save_checkpoint_now
from .errors import REPORTED_ERRORS, exit_on_reported_errors, one_line
from .image_loading import CheckedLoadImageFromFile, CorruptImageError
from .preemption import PREEMPTED_EXIT_CODE, PreemptionHook
from .resume import (RandomStateHook, ResumeError, check_resume_checkpoint,
                     checkpoint_problem, find_resume_checkpoint)
from .runner_config import make_reliable

__all__ = [
    'AtomicLocalBackend', 'AtomicWriteError', 'write_atomically',
    'AtomicCheckpointHook', 'save_checkpoint_now', 'REPORTED_ERRORS',
    'exit_on_reported_errors', 'one_line', 'CheckedLoadImageFromFile',
    'CorruptImageError', 'PREEMPTED_EXIT_CODE', 'PreemptionHook',
    'RandomStateHook', 'ResumeError', 'check_resume_checkpoint',
    'checkpoint_problem', 'find_resume_checkpoint', 'make_reliable'
]
