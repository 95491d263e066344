"""The hooks every Runner of ours gets (see :mod:`..runner_config`)."""
from .checkpoint_hook import AtomicCheckpointHook, save_checkpoint_now
from .preemption_hook import PREEMPTED_EXIT_CODE, PreemptionHook
from .random_state_hook import RandomStateHook

__all__ = ['AtomicCheckpointHook', 'save_checkpoint_now',
           'PREEMPTED_EXIT_CODE', 'PreemptionHook', 'RandomStateHook']
