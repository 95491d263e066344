"""Kill a training run with SIGKILL at random moments, resume it each time,
and check that nothing was lost.

1. Runs ``tools/train.py CONFIG`` once without interruption (the reference).
2. Runs it again in another work dir and, ``--kills`` times, SIGKILLs it at a
   random moment: after a training iteration drawn at random (distinct
   iterations, in order) has been logged, plus a random delay of up to
   ``--max-delay`` seconds (so some kills land in the middle of a checkpoint
   write), then restarts it with ``--resume``.
   Every run has the same ``randomness.seed`` (``--train-seed``).
3. Lets the last restart finish and reports: kills survived, whether every
   checkpoint left in the work dir is readable, leftover temporary files,
   and the largest difference between the final weights and the reference's.
   Exits 1 unless the run finished, every checkpoint is readable, nothing
   is left over and the weights agree within 1e-6.

Example::

    python tools/analysis_tools/kill_resume_check.py CONFIG --kills 6 \
        --work-dir work_dirs/kill_check --cfg-options train_cfg.max_iters=20
"""
import argparse
import glob
import os
import os.path as osp
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from typing import List, Optional, Tuple

import torch

from mmconvnextv2.engine import checkpoint_problem
from mmconvnextv2.engine.atomic import TMP_MARK
from mmconvnextv2.runtime import trust_mmengine_checkpoints

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ITER = re.compile(r'Iter\(train\) \[\s*(\d+)/(\d+)\]')


def _env() -> dict:
    # one thread: the same arithmetic in every run, so weights can be compared
    return dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
                PYTHONUNBUFFERED='1', PYTHONWARNINGS='ignore')


def _train_cmd(config: str, work_dir: str, options: List[str],
               resume: bool) -> List[str]:
    cmd = [sys.executable, osp.join(ROOT, 'tools/train.py'), config,
           '--work-dir', work_dir]
    if resume:
        cmd.append('--resume')
    return cmd + (['--cfg-options', *options] if options else [])


def run_once(config: str, work_dir: str, options: List[str], resume: bool,
             log, kill_after: Optional[int] = None,
             delay: float = 0.0) -> Tuple[Optional[int], int]:
    """Run train.py; with ``kill_after``, SIGKILL it ``delay`` seconds after
    it logs a training iteration >= ``kill_after``.

    Returns ``(last logged iteration, exit code)``; the exit code is
    ``-SIGKILL`` when the kill landed.
    """
    proc = subprocess.Popen(_train_cmd(config, work_dir, options, resume),
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
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
    """The ``N`` of the last ``Iter(train) [i/N]`` line of a log."""
    with open(log_path) as f:
        found = ITER.findall(f.read())
    if not found:
        raise SystemExit(f'error: no "Iter(train) [i/N]" line in {log_path}')
    return int(found[-1][1])


def pointed_checkpoint(work_dir: str) -> Optional[str]:
    """The path in ``work_dir/last_checkpoint``, or None without one."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        return f.read().strip()


def final_weights(work_dir: str) -> dict:
    return torch.load(pointed_checkpoint(work_dir),
                      map_location='cpu')['state_dict']


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--kills', type=int, default=6)
    parser.add_argument('--seed', type=int, default=0,
                        help='draws the kill moments (not the training seed)')
    parser.add_argument('--max-delay', type=float, default=1.5,
                        help='largest extra delay after the drawn iteration (s)')
    parser.add_argument('--work-dir', default='work_dirs/kill_resume_check')
    parser.add_argument('--train-seed', type=int, default=0,
                        help='randomness.seed of every run (a config without '
                        'a seed draws a new one per run, and the weights '
                        'could not be compared)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed on to tools/train.py')
    args = parser.parse_args(argv)
    if not any(o.startswith('randomness.seed=') for o in args.cfg_options):
        args.cfg_options.append(f'randomness.seed={args.train_seed}')
    trust_mmengine_checkpoints()

    shutil.rmtree(args.work_dir, ignore_errors=True)
    reference = osp.join(args.work_dir, 'reference')
    killed_dir = osp.join(args.work_dir, 'killed')
    os.makedirs(args.work_dir)
    rng = random.Random(args.seed)
    log_path = osp.join(args.work_dir, 'train.log')
    with open(log_path, 'w') as log:
        _, code = run_once(args.config, reference, args.cfg_options, False,
                           log)
        if code != 0:
            print(f'error: the uninterrupted run failed (exit {code}); see '
                  f'{log_path}')
            return 1
        log.flush()
        total = total_iterations(log_path)
        # distinct kill points spread over the run, in order
        points = sorted(rng.sample(range(1, total),
                                   min(args.kills, total - 1)))
        kills = 0
        for i, point in enumerate(points):
            delay = rng.uniform(0.0, args.max_delay)
            last, code = run_once(args.config, killed_dir, args.cfg_options,
                                  i > 0, log, kill_after=point, delay=delay)
            if code != -signal.SIGKILL:
                print(f'run {i + 1} ended (exit {code}) before its kill')
                continue
            kills += 1
            resume_from = pointed_checkpoint(killed_dir)
            resume_from = osp.basename(resume_from) if resume_from \
                else 'nothing (starts over)'
            print(f'kill {kills}: SIGKILL {delay:.2f} s after iteration '
                  f'{last}/{total} was logged; last_checkpoint -> '
                  f'{resume_from}')
        _, code = run_once(args.config, killed_dir, args.cfg_options,
                           bool(points), log)
    problems = [(p, checkpoint_problem(p)) for p in
                sorted(glob.glob(osp.join(killed_dir, '*.pth')))]
    damaged = [f'{p}: {why}' for p, why in problems if why]
    leftovers = [n for n in os.listdir(killed_dir) if n.endswith(TMP_MARK)]
    diff = float('nan')
    if code == 0:
        a, b = final_weights(reference), final_weights(killed_dir)
        diff = max((a[k].double() - b[k].double()).abs().max().item()
                   for k in a)
    print(f'kills survived: {kills if code == 0 else 0}/{kills}; final run '
          f'exit {code}; {len(problems)} checkpoint(s) on disk, '
          f'{len(damaged)} unreadable; {len(leftovers)} temporary file(s) '
          f'left; final weights vs uninterrupted run: max |diff| = {diff:.3g}')
    for line in damaged:
        print(f'unreadable: {line}')
    equal = diff <= 1e-6  # False for nan
    return 0 if code == 0 and equal and not damaged and not leftovers else 1


if __name__ == '__main__':
    sys.exit(main())
