"""Does FCMAE pre-training pay off on this data, and after how much?

Pre-trains once (an iteration-based FCMAE config, its schedule stretched to
the largest budget) and keeps a checkpoint at every budget; then fine-tunes
every downstream config from every budget (0 = random initialisation) with
every seed, through the real ``tools/train.py``, and evaluates each run with
``tools/test.py``. Writes ``payoff.json``, ``payoff.md`` (mean +- std per
budget and metric, then every single run) and ``payoff.png`` (metric vs
budget with error bars, one panel per metric) into the work dir::

    python tools/analysis_tools/fcmae_payoff.py \\
        configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py \\
        configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py \\
        configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py \\
        --budgets 0 500 1000 --seeds 0 1 2 --jobs 2 --work-dir work_dirs/payoff

Seeds are fine-tuning seeds (``randomness.seed``); the pre-training runs once
(``--pretrain-seed``). Finished runs are reused, an interrupted one resumes
from its last checkpoint, so a crashed study continues where it stopped.
``--jobs N`` runs N tools at once with ``cpu_count / N`` threads each (every
run under the same conditions; on a small CPU two single-threaded runs get
more done than one two-threaded run). Point the configs at your own data with
``--pretrain-options`` / ``--finetune-options`` (mmengine ``--cfg-options``
syntax) or with small configs of your own that inherit ours.

The study itself is :mod:`mmconvnextv2.analysis.payoff`.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from mmconvnextv2.analysis.payoff import Downstream, run_study, write_outputs


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    parser.add_argument('fcmae_config', help='iteration-based FCMAE config')
    parser.add_argument('configs', nargs='+',
                        help='downstream configs (detection, segmentation, '
                        'classification)')
    parser.add_argument('--budgets', type=int, nargs='+', required=True,
                        help='pre-training iterations; 0 = random init')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='fine-tuning seeds')
    parser.add_argument('--pretrain-seed', type=int, default=0)
    parser.add_argument('--work-dir', default='work_dirs/fcmae_payoff')
    parser.add_argument('--pretrain-options', nargs='+', default=[],
                        metavar='KEY=VALUE', help='--cfg-options of the '
                        'pre-training run (e.g. its data root)')
    parser.add_argument('--finetune-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='--cfg-options of every fine-tuning run')
    parser.add_argument('--random-init-options', nargs='+', default=[],
                        metavar='KEY=VALUE', help='added for the random-init '
                        'runs (e.g. the learning rate chosen for that start)')
    parser.add_argument('--fcmae-init-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='added for the FCMAE-init runs')
    parser.add_argument('--metrics', nargs='+',
                        help='metric keys to report (default: bbox/segm mAP, '
                        'mIoU or top-1, whichever the test writes)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='tools run at once (threads split between them)')
    parser.add_argument('--quiet', action='store_true',
                        help="only progress lines (the tools' output goes to "
                        'tool.log in each run dir)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    if args.jobs < 1:
        raise SystemExit(f'--jobs must be >= 1, got {args.jobs}')
    names = [osp.splitext(osp.basename(c))[0] for c in args.configs]
    if len(set(names)) != len(names):
        raise SystemExit(f'two downstream configs share a name: {names}')
    for path in [args.fcmae_config] + args.configs:
        if not osp.isfile(path):
            raise SystemExit(f'config not found: {path}')
    tasks = [Downstream(n, osp.abspath(c), list(args.finetune_options),
                        args.metrics, list(args.random_init_options),
                        list(args.fcmae_init_options))
             for n, c in zip(names, args.configs)]
    work = osp.abspath(args.work_dir)
    study = run_study(osp.abspath(args.fcmae_config), tasks, args.budgets,
                      args.seeds, work, args.pretrain_options,
                      args.pretrain_seed, args.jobs, args.quiet)
    print('\n' + write_outputs(study, work))
    print(f'\nwrote {args.work_dir}/payoff.md, payoff.json and payoff.png')
    return study


if __name__ == '__main__':
    main()
