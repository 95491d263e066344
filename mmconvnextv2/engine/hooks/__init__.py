"""The hooks every Runner of ours gets (see :mod:`..runner_config`)."""
from .checkpoint_hook import AtomicCheckpointHook, save_checkpoint_now
from .dist_watchdog_hook import DistWatchdogHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .preemption_hook import PREEMPTED_EXIT_CODE, PreemptionHook
from .random_state_hook import RandomStateHook
from .stem_channels_hook import StemChannelsHook

__all__ = ['AtomicCheckpointHook', 'save_checkpoint_now', 'DistWatchdogHook',
           'NonFiniteLossError', 'NonFiniteLossHook',
           'PREEMPTED_EXIT_CODE', 'PreemptionHook', 'RandomStateHook',
           'StemChannelsHook']
