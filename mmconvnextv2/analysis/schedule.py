"""Scheduling a study's runs: jobs with dependencies on a few worker
threads (with progress and a time estimate), how many threads each tool
gets, and an iteration-based schedule stretched to another length."""
import os
import os.path as osp
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from .runner import repo_root, say

__all__ = ['Job', 'execute', 'format_time', 'threads_per_job',
           'stretch_schedule']


@dataclass
class Job:
    """One unit of a study: ``fn`` runs once every job in ``deps`` is done;
    ``weight`` is its expected share of the time (for the estimate)."""
    key: str
    fn: Callable[[], Dict]
    deps: List[str] = field(default_factory=list)
    weight: float = 1.


def format_time(seconds: float) -> str:
    """``'3m07s'``."""
    seconds = int(round(seconds))
    return f'{seconds // 60}m{seconds % 60:02d}s'


def threads_per_job(jobs: int) -> Optional[int]:
    """Threads for each of ``jobs`` tools running at once: the CPUs split
    between them, or None (the child's default) for a single job."""
    if jobs <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // jobs)


def _was_reused(result: Dict) -> bool:
    """A job that neither trained nor tested (its outputs existed)."""
    return all(result.get(k, 0) == 0 for k in ('train_s', 'test_s'))


@dataclass
class _Progress:
    """Counts finished jobs and extrapolates the time left from the jobs
    that ran (reused ones take no time)."""
    total: int
    left_weight: float
    label: str
    ran_weight: float = 0.
    start: float = field(default_factory=time.time)

    def report(self, job: Job, result: Dict, done: int) -> None:
        reused = _was_reused(result)
        self.left_weight -= job.weight
        self.ran_weight += 0 if reused else job.weight
        elapsed = time.time() - self.start
        left = (f'{format_time(elapsed * self.left_weight / self.ran_weight)}'
                ' left' if self.ran_weight else '? left')
        say(f'[{self.label}] {done}/{self.total} done: {job.key}'
            + (' (reused)' if reused else '')
            + f'; elapsed {format_time(elapsed)}, about {left}')


def _start_ready(pending: List[Job], running: Dict[Future, Job],
                 results: Dict[str, Dict], workers: int,
                 pool: ThreadPoolExecutor) -> None:
    """Submit pending jobs, in list order, whose deps are done."""
    for job in list(pending):
        if len(running) < workers and all(d in results for d in job.deps):
            pending.remove(job)
            running[pool.submit(job.fn)] = job


def execute(jobs: List[Job], workers: int,
            on_done: Optional[Callable[[Job, Dict], None]] = None,
            label: str = 'payoff') -> Dict[str, Dict]:
    """Run ``jobs`` (in list order once their ``deps`` are done) on
    ``workers`` threads; print a ``[label]`` progress line per job; return
    each job's result. After a failure no new job starts, the running ones
    finish, and the first error is raised."""
    pending, running = list(jobs), {}  # type: List[Job], Dict[Future, Job]
    results: Dict[str, Dict] = {}
    progress = _Progress(len(jobs), sum(j.weight for j in jobs), label)
    failure: Optional[BaseException] = None
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while (pending and failure is None) or running:
            if failure is None:
                _start_ready(pending, running, results, workers, pool)
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                try:
                    results[job.key] = future.result()
                except Exception as exc:  # noqa: BLE001 (re-raised below)
                    failure = failure or exc
                    say(f'[{label}] {job.key} failed: {exc}')
                    continue
                progress.report(job, results[job.key], len(results))
                if on_done:
                    on_done(job, results[job.key])
    if failure is not None:
        raise failure
    if pending:
        raise RuntimeError(f'jobs never ready: {[j.key for j in pending]}')
    return results


def _scheduler_options(where: str, sched: dict, old: int,
                       scale: Callable[[int], int]) -> List[str]:
    """The stretched begin/end/T_max/milestones of one scheduler."""
    options = [f'{where}.{key}={scale(sched[key])}'
               for key in ('begin', 'end', 'T_max')
               if isinstance(sched.get(key), int) and sched[key] <= old]
    if sched.get('milestones'):
        stones = ','.join(str(scale(m)) for m in sched['milestones'])
        options.append(f'{where}.milestones=[{stones}]')
    return options


def stretch_schedule(config: str, max_iters: int) -> List[str]:
    """``--cfg-options`` that set an iteration-based config's length to
    ``max_iters`` and stretch its LR schedule (begin/end/T_max/milestones of
    every iteration-based scheduler) by the same factor.

    Raises:
        ValueError: the config trains by epochs, or a scheduler counts them.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(config if osp.isabs(config)
                          else osp.join(repo_root(), config))
    loop = cfg.get('train_cfg', {})
    if loop.get('type') != 'IterBasedTrainLoop' or 'max_iters' not in loop:
        raise ValueError(f'{config} does not train by iterations '
                         f'(train_cfg={dict(loop)}); the study counts '
                         'pre-training budgets in iterations')
    old = loop['max_iters']
    schedulers = cfg.get('param_scheduler') or []
    single = isinstance(schedulers, dict)
    schedulers = [schedulers] if single else schedulers

    def scale(value: int) -> int:
        return max(1, round(value * max_iters / old)) if value else 0

    options = [f'train_cfg.max_iters={max_iters}']
    for i, sched in enumerate(schedulers):
        if sched.get('by_epoch', True):
            raise ValueError(f'{config}: param_scheduler {i} counts epochs; '
                             'the study needs by_epoch=False schedulers')
        where = 'param_scheduler' + ('' if single else f'.{i}')
        options += _scheduler_options(where, sched, old, scale)
    return options
