"""The main job on a fresh machine: FCMAE pre-training -> Mask R-CNN + UperNet
fine-tuning (FCMAE init vs random init) -> COCO mAP / mIoU, with pictures.

Everything runs through the real tools (``tools/train.py``, ``tools/test.py``,
``tools/misc/visualize_fcmae.py``) on the synthetic data sets, ConvNeXt V2-atto,
CPU, driven by the payoff study's engine
(``mmconvnextv2/analysis/payoff.py``) with two budgets (0 = random init,
and the pre-training length, 500 iterations of the FCMAE config's schedule)
and one seed. The setting is the usual
self-supervised one: FCMAE pre-trains on a pool of unlabelled images much
larger than the labelled training sets. Two tools run at once, one thread
each (the random-init runs beside the pre-training). Outputs go to
``work_dirs/quickstart/`` (``work_dirs/quickstart-seed<N>/`` for another
seed): ``results.json``/``results.md`` (the table),
``fcmae_reconstruction.png``, ``loss_curves.png``,
``det_results.jpg``/``seg_results.png`` (ground truth | FCMAE
start | random start) and one work dir per run. A second
run reuses every finished stage; ``--fresh`` starts over.

    python tools/quickstart.py            # the main job (make quickstart)
    python tools/quickstart.py --seed 1   # everything drawn anew
    python tools/quickstart.py --payoff   # the seeded study of this setting
    python tools/quickstart.py --smoke    # tiny budgets (used by the tests)

The plan itself is :mod:`mmconvnextv2.analysis.quickstart`, its runs
:mod:`mmconvnextv2.analysis.quickstart_run`, the learning-rate sweep
:mod:`mmconvnextv2.analysis.quickstart_sweep`; how long each takes:
docs/user_guides/payoff.md.
"""
import argparse
import os.path as osp
import time
import warnings
from typing import Dict, List, Optional

# setuptools' notice on mmengine importing pkg_resources: not for this console
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

from mmconvnextv2.analysis import quickstart as plan
from mmconvnextv2.analysis import quickstart_run as run
from mmconvnextv2.analysis import quickstart_sweep as sweep
from mmconvnextv2.analysis.runner import repo_root


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', help='default: work_dirs/quickstart '
                        '(work_dirs/quickstart-seed<N> for --seed N > 0); '
                        '--payoff shares it, reusing the main job\'s runs')
    parser.add_argument('--data-root', help='default: data/synthetic '
                        '(data/synthetic-seed<N> for --seed N > 0)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the data, the pre-training and the '
                        'fine-tuning')
    parser.add_argument('--payoff', action='store_true',
                        help='run the seeded payoff study of this setting '
                        f'instead: budgets {plan.PAYOFF_BUDGETS}, fine-tuning '
                        f'seeds {plan.PAYOFF_SEEDS}, in the same work dir '
                        '(the main job\'s runs are the study\'s seed-0 runs '
                        'at budgets 0 and the largest)')
    parser.add_argument('--lr-sweep', action='store_true',
                        help='choose the fine-tuning learning rates (LR) on '
                        f'the data of seed {sweep.SWEEP_DATA_SEED}, for each '
                        f'start, seeds {sweep.SWEEP_SEEDS} per rate (default '
                        'dirs: work_dirs/lr_sweep, data/synthetic-seed'
                        f'{sweep.SWEEP_DATA_SEED})')
    parser.add_argument('--jobs', type=int, default=2,
                        help='tools run at once, threads split between them')
    parser.add_argument('--fresh', action='store_true',
                        help='delete the work dir first and redo every stage')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny budgets: checks the pipeline, not the numbers')
    parser.add_argument('--quiet', action='store_true',
                        help="hide the tools' own logs (always hidden with "
                        '--jobs > 1: each run has its tool.log)')
    args = parser.parse_args(argv)
    suffix = f'-seed{args.seed}' if args.seed else ''
    if args.lr_sweep:  # its own data and folder
        suffix = f'-seed{sweep.SWEEP_DATA_SEED}'
    args.work_dir = args.work_dir or ('work_dirs/lr_sweep' if args.lr_sweep
                                      else 'work_dirs/quickstart' + suffix)
    args.data_root = args.data_root or 'data/synthetic' + suffix
    return args


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    start = time.time()
    work = osp.join(repo_root(), args.work_dir)
    data_root = osp.join(repo_root(), args.data_root)
    run.prepare_work_dir(work, args.fresh)
    if args.lr_sweep:
        return sweep.lr_sweep(work, data_root, plan.pretrain_budget(args.smoke),
                              args.smoke, args.jobs, args.quiet)
    if args.payoff:
        return run.run_payoff(work, data_root, args.seed, args.smoke,
                              args.jobs, args.quiet)
    return run.run_main_job(work, data_root, args.seed, args.smoke,
                            args.jobs, args.quiet, start)


if __name__ == '__main__':
    main()
