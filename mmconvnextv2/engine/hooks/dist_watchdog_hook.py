"""Name the rank that stopped answering when a collective times out.

With several processes, :class:`DistWatchdogHook` runs a heartbeat thread in
every rank: every ``interval`` seconds it writes a counter and the current
iteration into the process group's store. When a collective fails (it timed
out, ``env_cfg.dist_cfg.timeout`` / ``MMCNV2_DIST_TIMEOUT``, or its peer went
away), :meth:`DistWatchdogHook.explain` reads the counters twice and names the
ranks whose counter stopped: a process that was stopped or killed also stops
its heartbeat thread; a store that does not answer names its host, rank 0.
``tools/train.py`` prints that as one line (the lowest rank that still
answers prints it, the others exit quietly).

Under torchrun, a stopped rank on this host is killed right after the report,
so that the elastic agent restarts the group at once (it would otherwise wait
30 s for the stopped process to end before killing it itself).
"""
import os
import signal
import socket
import threading
import time
from typing import ClassVar, Dict, List, Optional, Tuple

import torch.distributed as torch_dist
from mmengine.dist import all_gather_object
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...utils.errors import explains
from ..distributed import (RESTART_ENV, TIMEOUT_ENV, CollectiveTimeoutError,
                           DEFAULT_DIST_TIMEOUT, is_collective_failure,
                           is_distributed, restart_count)

__all__ = ['DistWatchdogHook', 'explain_collective_error']

_PREFIX = 'mmcnv2/heartbeat/'
Beat = Tuple[int, int, str, int]  # counter, iteration, host, pid


def _default_store():
    """The default process group's store, or None."""
    getter = getattr(torch_dist.distributed_c10d, '_get_default_store', None)
    try:
        return getter() if getter else None
    except Exception:  # no default group, or a backend without a store
        return None


@HOOKS.register_module()
class DistWatchdogHook(Hook):
    """Heartbeats of every rank, read when a collective fails.

    Args:
        interval: Seconds between heartbeats; default a tenth of the
            collective timeout, within 0.5 to 2 s.
    """

    priority = 'VERY_HIGH'
    #: The hook of the run in progress (for :func:`explain_collective_error`).
    active: ClassVar[Optional['DistWatchdogHook']] = None

    def __init__(self, interval: Optional[float] = None) -> None:
        self.interval = interval
        self.iteration = 0
        self.timeout = DEFAULT_DIST_TIMEOUT
        self._store = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._rank, self._world = 0, 1
        self._prefix = _PREFIX
        self._procs: List[Tuple[str, int]] = []

    # ------------------------------------------------------------ heartbeat
    def before_run(self, runner) -> None:
        if not is_distributed():
            return
        self._world = torch_dist.get_world_size()
        self._store = _default_store()
        if self._store is None:
            return
        self._rank = torch_dist.get_rank()
        dist_cfg = (runner.cfg.get('env_cfg') or {}).get('dist_cfg') or {}
        self.timeout = float(dist_cfg.get('timeout', DEFAULT_DIST_TIMEOUT))
        if self.interval is None:
            self.interval = min(2.0, max(0.5, self.timeout / 10))
        self._stop.clear()
        self._prefix = f'{_PREFIX}{restart_count()}/'
        self._procs = all_gather_object((socket.gethostname(), os.getpid()))
        self._beat(0)
        self._thread = threading.Thread(target=self._beat_loop, daemon=True,
                                        name='mmcnv2-heartbeat')
        self._thread.start()
        DistWatchdogHook.active = self

    def _beat(self, counter: int) -> None:
        self._store.set(
            f'{self._prefix}{self._rank}',
            f'{counter} {self.iteration} {socket.gethostname()} {os.getpid()}')

    def _beat_loop(self) -> None:
        counter = 0
        while not self._stop.wait(self.interval):
            counter += 1
            try:
                self._beat(counter)
            except Exception:  # the store is gone: the run is ending
                return

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self.iteration = runner.iter + 1

    def after_run(self, runner) -> None:
        self._stop.set()
        if DistWatchdogHook.active is self:
            DistWatchdogHook.active = None

    # ------------------------------------------------------------ diagnosis
    def _read(self) -> Optional[Dict[int, Optional[Beat]]]:
        """Every rank's last heartbeat (None for a rank that wrote none);
        None if the store does not answer."""
        beats: Dict[int, Optional[Beat]] = {
            rank: None for rank in range(self._world)}
        for rank in range(self._world):
            key = f'{self._prefix}{rank}'
            try:
                if not self._store.check([key]):
                    continue
                count, it, host, pid = self._store.get(key).decode().split()
                beats[rank] = (int(count), int(it), host, int(pid))
            except Exception:  # the store does not answer
                return None
        return beats

    def _bounded_read(self, limit: float = 5.0
                      ) -> Optional[Dict[int, Optional[Beat]]]:
        """:meth:`_read` in a thread given ``limit`` seconds (a store whose
        host is stopped accepts the connection and never replies)."""
        found: List[Optional[Dict]] = []
        reader = threading.Thread(target=lambda: found.append(self._read()),
                                  daemon=True)
        reader.start()
        reader.join(limit)
        return found[0] if found else None

    def _read_twice(self) -> Tuple[Optional[Dict], Optional[Dict]]:
        """Heartbeats now and ``2.5 * interval`` later (None: the store
        did not answer)."""
        first = self._bounded_read()
        if first is None:
            return None, None
        time.sleep(2.5 * self.interval)
        return first, self._bounded_read()

    def _silent(self) -> Tuple[List[int], Dict[int, Optional[Beat]], bool]:
        """The ranks whose heartbeat stopped, the last heartbeats and
        whether the store answered. When it does not, the rank hosting it
        (rank 0: tools/dist_train.sh gives every worker group a store of its
        own, on rank 0) is the one that stopped."""
        first, second = self._read_twice()
        if first is None or second is None:
            return ([0] if self._rank != 0 else []), {}, False
        return [r for r in range(self._world) if r != self._rank and (
            second[r] is None or first[r] is None
            or second[r][0] == first[r][0])], second, True

    def explain(self, err: BaseException) -> CollectiveTimeoutError:
        """The one-line error for the failed collective ``err``."""
        silent, second, store_answers = self._silent()
        answering = [r for r in range(self._world) if r not in silent]
        report = not answering or self._rank == min(answering)
        timed_out = 'time' in str(err).lower()
        where = f'at iteration {self.iteration}' if self.iteration else \
            'before training'
        limit = (f'{self.timeout:g} s collective timeout '
                 f'(env_cfg.dist_cfg.timeout, {TIMEOUT_ENV})')
        if silent:
            names = ', '.join(map(str, silent))
            how = (f'no reply within the {limit}' if timed_out else
                   f'its connection closed (within the {limit})')
            message = (f'rank{"s" if len(silent) > 1 else ""} {names} '
                       f'stopped answering {where}: {how}')
            if not store_answers:
                message += ' (the store it hosts does not answer either)'
            killed = self._kill_local(silent) if report else []
            if killed:
                message += ('; killed its stopped process '
                            f'{", ".join(map(str, killed))} on this host so '
                            'that torchrun restarts now')
        else:
            iters = {r: b[1] for r, b in second.items() if b is not None}
            behind = [r for r, it in iters.items()
                      if it < max(iters.values())] if iters else []
            detail = (f'; rank {", ".join(map(str, behind))} behind at '
                      f'iteration {min(iters[r] for r in behind)}'
                      if behind else '')
            first_line = str(err).strip().splitlines()[0] if str(
                err).strip() else type(err).__name__
            message = (f'a collective failed {where} ({limit}) while every '
                       f'rank still answers{detail}: {first_line}')
        return CollectiveTimeoutError(message, report=report)

    def _kill_local(self, ranks: List[int]) -> List[int]:
        """SIGKILL the stopped processes of ``ranks`` that run on this host,
        under torchrun only; return their pids."""
        if RESTART_ENV not in os.environ or not self._procs:
            return []
        here, killed = socket.gethostname(), []
        for rank in ranks:
            host, pid = self._procs[rank]
            if host != here or not _is_stopped(pid):
                continue
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except OSError:
                pass
        return killed


def _is_stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped (state T or t in /proc)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in ('T', 't')


@explains
def explain_collective_error(err: BaseException
                             ) -> Optional[CollectiveTimeoutError]:
    """The one-line :class:`CollectiveTimeoutError` for ``err`` if it is a
    failed collective of a run watched by ``DistWatchdogHook``, else None."""
    if isinstance(err, CollectiveTimeoutError):
        return err
    if not is_collective_failure(err):
        return None
    watchdog = DistWatchdogHook.active
    if watchdog is None:
        return None
    return watchdog.explain(err)
