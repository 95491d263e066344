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

On your own data, a folder written by
tools/dataset_converters/import_dataset.py: the configs written for it
(``<work dir>/configs/``), FCMAE on its training images (``--unlabelled``
adds frames; a validation image never), fine-tuning from the FCMAE
weights, from random initialisation and from ``--init`` (any checkpoint
our loader reads), each start's learning rate given or from a short sweep
on a split of the training set (``lr_sweep.md``), every run tested on the
validation split, the same table (mean ± std over ``--seeds``), pictures
and loss curves; a run whose validation collapsed while its loss fell is
marked ``collapsed`` and left out of the mean:

    python tools/quickstart.py --data OUT [--task det|seg|cls] [--arch atto]
        [--image-size S] [--pretrain-iters N] [--iters N] [--unlabelled DIR]
        [--init CKPT] [--seed K] [--seeds K1,K2] [--lr-fcmae X]
        [--lr-random Y] [--lr-init Z] [--work-dir W]

The plan itself is :mod:`mmconvnextv2.analysis.quickstart` (on your data:
:mod:`mmconvnextv2.analysis.quickstart_data`), its runs
:mod:`mmconvnextv2.analysis.quickstart_run` (and ``quickstart_data_run``),
the learning-rate sweep :mod:`mmconvnextv2.analysis.quickstart_sweep`; how
long each takes: docs/user_guides/payoff.md.
"""
import argparse
import os.path as osp
import time
import warnings
from typing import Dict, List, Optional, Tuple

# setuptools' notice on mmengine importing pkg_resources: not for this console
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import mmconvnextv2  # noqa: F401  (the written configs' prefix)
from mmconvnextv2.analysis import quickstart as plan
from mmconvnextv2.analysis import quickstart_data as data_plan
from mmconvnextv2.analysis import quickstart_run as run
from mmconvnextv2.analysis import quickstart_sweep as sweep
from mmconvnextv2.analysis.runner import repo_root
from mmconvnextv2.datasets.dataset_info import TASKS
from mmconvnextv2.utils import exit_on_reported_errors
from mmconvnextv2.utils.display import parse_bands


def _seeds(text: str) -> List[int]:
    try:
        return [int(s) for s in text.split(',') if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'--seeds {text!r}: integers separated by commas') from None


def _bands(text: str) -> Tuple[int, ...]:
    try:
        return parse_bands(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


#: The options that only the main job on your data reads.
DATA_ONLY = ('task', 'arch', 'image_size', 'pretrain_iters', 'iters',
             'sweep_iters', 'unlabelled', 'init', 'seeds', 'lr_fcmae',
             'lr_random', 'lr_init', 'bands')


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the main job on your own data (``--data``)."""
    group = parser.add_argument_group(
        'your own data', 'the main job on a folder written by '
        'tools/dataset_converters/import_dataset.py')
    group.add_argument('--data', metavar='OUT',
                       help='the imported folder (with dataset.json)')
    group.add_argument('--task', choices=TASKS, help="default: dataset.json's")
    group.add_argument('--arch', default='atto',
                       help='ConvNeXt V2 size (default: atto)')
    group.add_argument('--image-size', type=int, help='det/seg: the long '
                       'side frames are resized to; cls: the crop (default: '
                       'from the data)')
    group.add_argument('--pretrain-iters', type=int, help='FCMAE iterations '
                       "(default: the written config's, 100 epochs)")
    group.add_argument('--iters', type=int, help='fine-tuning iterations '
                       "(default: the written config's, 12 epochs)")
    group.add_argument('--sweep-iters', type=int, help='iterations of a '
                       f'sweep run (default: {data_plan.SWEEP_SHARE:g} of '
                       '--iters)')
    group.add_argument('--unlabelled', metavar='DIR', help='more images for '
                       'FCMAE (searched recursively; never a validation '
                       'image)')
    group.add_argument('--init', metavar='CKPT', help='a third start: any '
                       'checkpoint our loader reads (official FCMAE, ours, '
                       'timm ...), loaded as it is')
    group.add_argument('--seeds', type=_seeds, metavar='K1,K2',
                       help='fine-tuning seeds (default: --seed); the '
                       'pre-training runs once, with --seed')
    group.add_argument('--bands', type=_bands, metavar='B1,B2,B3',
                       help='the bands the reconstruction picture draws as '
                       'red, green, blue (stored order, from 0), or one '
                       'band as grey (default: the first three; one band '
                       'for images of fewer)')
    for name in data_plan.START_NAMES:
        group.add_argument(f'--lr-{name}', type=float, metavar='LR',
                           help=f'the {name} start\'s learning rate '
                           '(default: from a sweep on a split of the '
                           'training set)')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', help='default: work_dirs/quickstart '
                        '(work_dirs/quickstart-seed<N> for --seed N > 0; '
                        'with --data: work_dirs/quickstart-<its folder '
                        'name>); --payoff shares it, reusing the main '
                        'job\'s runs')
    parser.add_argument('--data-root', help='default: data/synthetic '
                        '(data/synthetic-seed<N> for --seed N > 0)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the data, the pre-training and the '
                        'fine-tuning (with --data: of the pre-training, the '
                        'sweep and, without --seeds, the fine-tuning)')
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
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    if args.data and (args.payoff or args.lr_sweep or args.data_root):
        parser.error('--data runs the main job on your data: not with '
                     '--payoff, --lr-sweep or --data-root')
    stray = [f'--{k.replace("_", "-")}' for k in DATA_ONLY
             if getattr(args, k) != parser.get_default(k)]
    if stray and not args.data:
        parser.error(f'{", ".join(stray)}: only with --data')
    if args.data:
        return args
    suffix = f'-seed{args.seed}' if args.seed else ''
    if args.lr_sweep:  # its own data and folder
        suffix = f'-seed{sweep.SWEEP_DATA_SEED}'
    args.work_dir = args.work_dir or ('work_dirs/lr_sweep' if args.lr_sweep
                                      else 'work_dirs/quickstart' + suffix)
    args.data_root = args.data_root or 'data/synthetic' + suffix
    return args


def main_on_data(args: argparse.Namespace) -> Dict:
    """The main job on the folder ``args.data``."""
    start = time.time()
    work = osp.abspath(args.work_dir) if args.work_dir else \
        data_plan.default_work_dir(args.data)
    run.prepare_work_dir(work, args.fresh)
    from mmconvnextv2.analysis.quickstart_data_run import run_data_job
    with exit_on_reported_errors():
        job = data_plan.plan_data_job(
            args.data, work, args.task, args.arch, args.image_size,
            args.pretrain_iters, args.iters, args.unlabelled, args.init,
            args.seed, args.seeds, {name: getattr(args, f'lr_{name}')
                                    for name in data_plan.START_NAMES},
            args.sweep_iters, args.smoke, bands=args.bands)
        return run_data_job(job, args.jobs, args.quiet, start,
                            time.time() - start)


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    if args.data:
        return main_on_data(args)
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
