"""Distributed runs that end or continue instead of hanging.

* :func:`set_dist_timeout`: the collective timeout of the process group, in
  seconds: ``MMCNV2_DIST_TIMEOUT`` if set, else ``env_cfg.dist_cfg.timeout``
  of the config, else :data:`DEFAULT_DIST_TIMEOUT` (10 minutes; gloo's own
  default is 30). A collective that a rank does not join within it fails on
  the other ranks instead of waiting.
* :func:`restart_count`: how many times torchrun's elastic agent restarted
  the worker group (``TORCHELASTIC_RESTART_COUNT``); a restarted group
  resumes from the newest readable checkpoint of the work dir
  (:mod:`.runner_config`).
* :class:`CollectiveTimeoutError` (explained by the watchdog hook's
  :func:`~.hooks.dist_watchdog_hook.explain_collective_error`): the
  error of a collective that timed out or lost its peer, told in one line
  naming the rank that stopped answering (found through the heartbeats of
  :class:`mmconvnextv2.engine.hooks.DistWatchdogHook`).
* :func:`is_distributed` and :func:`any_rank`: whether a group of several
  ranks runs, and whether a flag is set on any of them (the ranks that must
  agree to skip a step, refuse a save or stop on a signal).
* :func:`remember_fatal_error` and :func:`check_previous_failure`: torchrun
  restarts a worker group whatever made it fail; a restart cannot mend a
  reported error that is not a lost rank (bad data, a NaN loss, an
  unreadable checkpoint), so rank 0 writes it to ``.failed_run`` in the
  work dir and the restarted group stops at once with it
  (:class:`RepeatedFailureError`) instead of training into it again.
"""
import os
import os.path as osp
import re
from contextlib import contextmanager
from typing import Iterator, Optional, Union

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from ..utils.errors import reported

__all__ = ['DEFAULT_DIST_TIMEOUT', 'TIMEOUT_ENV', 'dist_timeout',
           'set_dist_timeout', 'restart_count', 'is_distributed', 'any_rank',
           'CollectiveTimeoutError',
           'RepeatedFailureError',
           'remember_fatal_error', 'check_previous_failure']

#: Seconds a collective may wait for the slowest rank (mmengine's
#: ``env_cfg.dist_cfg.timeout``); gloo's default is 1800.
DEFAULT_DIST_TIMEOUT = 600
TIMEOUT_ENV = 'MMCNV2_DIST_TIMEOUT'
RESTART_ENV = 'TORCHELASTIC_RESTART_COUNT'
FAILED_MARK = '.failed_run'

_COLLECTIVE_FAILURE = re.compile(
    r'timed out|timeout|connection closed by peer|connection reset by peer|'
    r'broken pipe|pair closure|socket closed', re.IGNORECASE)


@reported
class CollectiveTimeoutError(RuntimeError):
    """A collective operation timed out or lost a peer rank.

    ``report`` is False on the ranks that leave the one-line report to a
    lower rank (so that a run prints it once)."""

    def __init__(self, message: str, report: bool = True) -> None:
        super().__init__(message)
        self.report = report


@reported
class RepeatedFailureError(RuntimeError):
    """The worker group that torchrun restarted had stopped with an error
    that a restart cannot mend."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.report = os.environ.get('RANK', '0') == '0'


def dist_timeout(cfg: Config) -> int:
    """The collective timeout of ``cfg`` in seconds (see the module doc).

    Raises:
        ValueError: ``MMCNV2_DIST_TIMEOUT`` or the config key is not a
            positive number.
    """
    env = os.environ.get(TIMEOUT_ENV, '').strip()
    dist_cfg = (cfg.get('env_cfg') or {}).get('dist_cfg') or {}
    value, source = (env, TIMEOUT_ENV) if env else (
        dist_cfg.get('timeout', DEFAULT_DIST_TIMEOUT),
        'env_cfg.dist_cfg.timeout')
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if seconds <= 0:
        raise ValueError(f'{source} must be a positive number of seconds, '
                         f'got {value!r}')
    return max(1, int(round(seconds)))


def set_dist_timeout(cfg: Config) -> int:
    """Write :func:`dist_timeout` into ``cfg.env_cfg.dist_cfg.timeout`` (which
    mmengine passes to ``init_process_group``); return it."""
    seconds = dist_timeout(cfg)
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg') is None:
        cfg.env_cfg['dist_cfg'] = dict()
    cfg.env_cfg['dist_cfg']['timeout'] = seconds
    return seconds


def restart_count() -> int:
    """How often torchrun restarted this worker group (0: first start)."""
    try:
        return int(os.environ.get(RESTART_ENV, '0') or 0)
    except ValueError:
        return 0


def is_distributed() -> bool:
    """Whether this process is one of a group of several ranks."""
    return (torch_dist.is_available() and torch_dist.is_initialized()
            and torch_dist.get_world_size() > 1)


def any_rank(flag: bool,
             device: Optional[Union[str, torch.device]] = None) -> bool:
    """Whether ``flag`` is set on any rank: an all-reduce that every rank
    must join (``flag`` itself with one process). Under NCCL the number
    goes to ``device`` (default: the current CUDA device), else the CPU."""
    if not is_distributed():
        return flag
    if torch_dist.get_backend() != 'nccl':
        device = 'cpu'
    tensor = torch.tensor([int(flag)], device=device or 'cuda')
    torch_dist.all_reduce(tensor, op=torch_dist.ReduceOp.MAX)
    return bool(tensor.item())


def is_collective_failure(err: BaseException) -> bool:
    """Whether ``err`` looks like a collective that timed out or whose peer
    went away (gloo, NCCL and the c10d store raise RuntimeErrors)."""
    if isinstance(err, getattr(torch_dist, 'DistError', ())):
        return True
    return isinstance(err, RuntimeError) and bool(
        _COLLECTIVE_FAILURE.search(str(err)))


@contextmanager
def remember_fatal_error(work_dir: Optional[str]) -> Iterator[None]:
    """Under torchrun, record a reported error other than a lost rank in
    ``work_dir/.failed_run`` (rank 0), then let it go on."""
    from ..utils.errors import one_line, reported_errors
    try:
        yield
    except reported_errors() as err:
        if (work_dir and RESTART_ENV in os.environ
                and os.environ.get('RANK', '0') == '0'
                and not isinstance(err, (CollectiveTimeoutError,
                                         RepeatedFailureError))):
            from ..utils.fileio import write_atomically
            try:
                write_atomically(osp.join(work_dir, FAILED_MARK),
                                 one_line(err))
            except OSError:
                pass
        raise


def check_previous_failure(work_dir: Optional[str]) -> None:
    """Under torchrun: on the first start forget an earlier run's failure;
    after a restart stop if the group before it recorded one.

    Raises:
        RepeatedFailureError: the previous group's error, in one line.
    """
    if not work_dir or RESTART_ENV not in os.environ:
        return
    path = osp.join(work_dir, FAILED_MARK)
    if restart_count() == 0:
        if os.environ.get('RANK', '0') == '0' and osp.exists(path):
            try:
                os.remove(path)
            except OSError:
                pass
        return
    if not osp.isfile(path):
        return
    with open(path) as f:
        reason = f.read().strip()
    raise RepeatedFailureError(
        f'the worker group before restart {restart_count()} stopped with '
        f'"{reason}"; a restart cannot mend that, so this one stops too '
        '(fix it, then start again with --resume)')
