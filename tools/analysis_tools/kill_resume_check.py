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

The check itself is :mod:`mmconvnextv2.analysis.kill_resume`.
"""
import argparse
import sys
from typing import List, Optional

from mmconvnextv2.analysis.kill_resume import kill_check
from mmconvnextv2.runtime import trust_mmengine_checkpoints


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
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
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not any(o.startswith('randomness.seed=') for o in args.cfg_options):
        args.cfg_options.append(f'randomness.seed={args.train_seed}')
    trust_mmengine_checkpoints()
    return kill_check(args.config, args.work_dir, args.cfg_options,
                      args.kills, args.seed, args.max_delay)


if __name__ == '__main__':
    sys.exit(main())
