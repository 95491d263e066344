"""One timer for the benchmarks: callables take turns, warm-up rounds are
dropped, the device is synchronised around each call."""
import time
from typing import Callable, Dict, List, Optional

import torch

__all__ = ['synchronize', 'time_turns', 'Stopwatch']


def synchronize(device: Optional[str] = None) -> None:
    """Wait for queued CUDA work (no-op elsewhere)."""
    if device is not None and str(device).startswith('cuda') \
            and torch.cuda.is_available():
        torch.cuda.synchronize()


def time_turns(steps: Dict[str, Callable[[], object]], rounds: int,
               warmup: int = 1, device: Optional[str] = None
               ) -> Dict[str, List[float]]:
    """Seconds of each call of every ``step``, the steps taking turns in
    each round (so drifts of the machine hit all of them alike); the first
    ``warmup`` rounds are not kept."""
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for round_ in range(warmup + rounds):
        for name, step in steps.items():
            synchronize(device)
            start = time.perf_counter()
            step()
            synchronize(device)
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


class Stopwatch:
    """``with Stopwatch() as w: ...`` then ``w.seconds``."""

    def __init__(self, device: Optional[str] = None) -> None:
        self.device = device
        self.seconds = 0.

    def __enter__(self) -> 'Stopwatch':
        synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        self.seconds = time.perf_counter() - self._start
