"""How the GPU check times a step: the median of timed turns after a
warm-up, the peak memory (CUDA), autocast and loss scaling as mmengine's
AmpOptimWrapper does them."""
import statistics
from contextlib import nullcontext
from typing import Any, Callable, Optional

import torch

from mmconvnextv2.utils import time_turns

__all__ = ['reset_peak', 'peak_mib', 'median_seconds', 'autocast',
           'grad_scaler']


def reset_peak(device: str) -> None:
    """Start a new peak-memory measurement (CUDA only)."""
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()


def peak_mib(device: str) -> Optional[float]:
    """Peak allocated MiB since :func:`reset_peak` (None off CUDA)."""
    if device != 'cuda':
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def median_seconds(step: Callable[[], None], device: str, warmup: int,
                   repeats: int) -> float:
    """Median seconds of ``step`` over ``repeats`` after ``warmup``."""
    return statistics.median(
        time_turns({'step': step}, repeats, warmup, device)['step'])


def autocast(device: str, dtype: Optional[torch.dtype]):
    """``torch.autocast`` for ``dtype`` (None: full precision)."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device, dtype=dtype)


def grad_scaler(device: str, dtype: Optional[torch.dtype]) -> Any:
    """fp16 needs loss scaling (as mmengine's AmpOptimWrapper); bf16 and fp32
    do not."""
    return torch.amp.GradScaler(device, enabled=dtype == torch.float16)
