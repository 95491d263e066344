"""The kill check: SIGKILL a training run at random moments, resume it each
time, and compare the end with an uninterrupted run.

Every run goes through ``tools/train.py`` with one thread (the same
arithmetic in every run, so the weights can be compared) and the same
``randomness.seed``. ``tools/analysis_tools/kill_resume_check.py`` is its
command line.
"""
import glob
import os
import os.path as osp
import random
import re
import shutil
import signal
import time
from dataclasses import dataclass, field
from typing import IO, List, Optional, Tuple

from mmconvnextv2.utils import TMP_MARK, read_pointer

from .runner import start_tool

__all__ = ['ITER', 'run_once', 'total_iterations', 'kill_points',
           'final_weights', 'max_weight_diff', 'KillReport', 'inspect_work_dir',
           'kill_check']

ITER = re.compile(r'Iter\(train\) \[\s*(\d+)/(\d+)\]')
#: The child's environment besides one thread.
QUIET = {'PYTHONWARNINGS': 'ignore'}


def _train_args(config: str, work_dir: str, options: List[str],
                resume: bool) -> List[str]:
    return [config, '--work-dir', work_dir] + (['--resume'] if resume else []) \
        + (['--cfg-options', *options] if options else [])


def run_once(config: str, work_dir: str, options: List[str], resume: bool,
             log: IO[str], kill_after: Optional[int] = None,
             delay: float = 0.0) -> Tuple[Optional[int], int]:
    """Run train.py, its output into ``log``; with ``kill_after``, SIGKILL it
    ``delay`` seconds after it logs a training iteration >= ``kill_after``.

    Returns ``(last logged iteration, exit code)``; the exit code is
    ``-SIGKILL`` when the kill landed.
    """
    proc = start_tool('tools/train.py',
                      _train_args(config, work_dir, options, resume),
                      threads=1, env=QUIET)
    last = None
    try:
        for line in proc.stdout:
            log.write(line)
            found = ITER.search(line)
            if found:
                last = int(found[1])
            if kill_after is not None and last is not None \
                    and last >= kill_after:
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                break
        return last, proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def total_iterations(log_path: str) -> int:
    """The ``N`` of the last ``Iter(train) [i/N]`` line of a log.

    Raises:
        SystemExit: the log has no such line.
    """
    with open(log_path) as f:
        found = ITER.findall(f.read())
    if not found:
        raise SystemExit(f'error: no "Iter(train) [i/N]" line in {log_path}')
    return int(found[-1][1])


def kill_points(rng: random.Random, total: int, kills: int) -> List[int]:
    """Distinct iterations spread over a run of ``total``, in order."""
    return sorted(rng.sample(range(1, total), min(kills, total - 1)))


def final_weights(work_dir: str) -> dict:
    """The ``state_dict`` of the checkpoint ``last_checkpoint`` names."""
    import torch
    return torch.load(read_pointer(work_dir), map_location='cpu')['state_dict']


def max_weight_diff(a: dict, b: dict) -> float:
    """The largest absolute difference between two state dicts' tensors."""
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


@dataclass
class KillReport:
    """What the killed run's work dir holds at the end."""
    checkpoints: int = 0
    damaged: List[str] = field(default_factory=list)
    leftovers: List[str] = field(default_factory=list)


def inspect_work_dir(work_dir: str) -> KillReport:
    """Every ``*.pth`` checked for readability, leftover temporary files."""
    from mmconvnextv2.engine import checkpoint_problem
    paths = sorted(glob.glob(osp.join(work_dir, '*.pth')))
    problems = [(p, checkpoint_problem(p)) for p in paths]
    return KillReport(
        checkpoints=len(paths),
        damaged=[f'{p}: {why}' for p, why in problems if why],
        leftovers=[n for n in os.listdir(work_dir) if n.endswith(TMP_MARK)])


def resumed_from(work_dir: str) -> str:
    """The checkpoint a resume would start from, for the progress line."""
    path = read_pointer(work_dir)
    return osp.basename(path) if path else 'nothing (starts over)'


def _killed_runs(config: str, work_dir: str, options: List[str],
                 points: List[int], rng: random.Random, max_delay: float,
                 total: int, log: IO[str]) -> int:
    """One run per kill point, each resumed from the previous one's
    checkpoints and SIGKILLed after its point; returns the kills that
    landed (a progress line each)."""
    kills = 0
    for i, point in enumerate(points):
        delay = rng.uniform(0.0, max_delay)
        last, code = run_once(config, work_dir, options, i > 0, log,
                              kill_after=point, delay=delay)
        if code != -signal.SIGKILL:
            print(f'run {i + 1} ended (exit {code}) before its kill')
            continue
        kills += 1
        print(f'kill {kills}: SIGKILL {delay:.2f} s after iteration '
              f'{last}/{total} was logged; last_checkpoint -> '
              f'{resumed_from(work_dir)}')
    return kills


def kill_check(config: str, work_dir: str, options: List[str], kills: int,
               seed: int, max_delay: float) -> int:
    """The whole check in ``work_dir`` (emptied first): the reference run in
    ``reference/``, the killed and resumed one in ``killed/``, all output in
    ``train.log``. Prints one line per kill and the summary; returns 0 when
    the run finished, every checkpoint is readable, nothing is left over
    and the weights agree within 1e-6, else 1."""
    shutil.rmtree(work_dir, ignore_errors=True)
    reference = osp.join(work_dir, 'reference')
    killed_dir = osp.join(work_dir, 'killed')
    os.makedirs(work_dir)
    rng = random.Random(seed)
    log_path = osp.join(work_dir, 'train.log')
    with open(log_path, 'w') as log:
        _, code = run_once(config, reference, options, False, log)
        if code != 0:
            print(f'error: the uninterrupted run failed (exit {code}); see '
                  f'{log_path}')
            return 1
        log.flush()
        total = total_iterations(log_path)
        points = kill_points(rng, total, kills)
        landed = _killed_runs(config, killed_dir, options, points, rng,
                              max_delay, total, log)
        _, code = run_once(config, killed_dir, options, bool(points), log)
    report = inspect_work_dir(killed_dir)
    diff = float('nan')
    if code == 0:
        diff = max_weight_diff(final_weights(reference),
                               final_weights(killed_dir))
    print(f'kills survived: {landed if code == 0 else 0}/{landed}; final run '
          f'exit {code}; {report.checkpoints} checkpoint(s) on disk, '
          f'{len(report.damaged)} unreadable; {len(report.leftovers)} '
          f'temporary file(s) left; final weights vs uninterrupted run: '
          f'max |diff| = {diff:.3g}')
    for line in report.damaged:
        print(f'unreadable: {line}')
    equal = diff <= 1e-6  # False for nan
    ok = code == 0 and equal and not report.damaged and not report.leftovers
    return 0 if ok else 1
