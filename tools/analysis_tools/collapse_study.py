"""ConvNeXt V1 vs V2 under FCMAE: does GRN prevent feature collapse here?

``make collapse`` runs this: FCMAE pre-training of V1-atto and V2-atto on the
quickstart's unlabelled pool, with the quickstart's FCMAE config (V1: its
twin) for the config's own length (1000 iterations) and the quickstart's seed
(a finished V2 run of that length in the quickstart's folder is reused), then the
feature-collapse analysis of V1/V2 x random/FCMAE on the quickstart's
validation images. Writes ``work_dirs/collapse/study.md`` / ``study.json``
and, per tap, ``<tap>/collapse.png`` (Figure 4 style) and
``<tap>/activations.png`` (Figure 3 style)::

    python tools/analysis_tools/collapse_study.py            # the study (make collapse)
    python tools/analysis_tools/collapse_study.py --smoke    # tiny budget (tests)
"""
import argparse
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

from mmconvnextv2.analysis import quickstart  # its config, data, budget
from mmconvnextv2.analysis.collapse_study import collapse_study
from mmconvnextv2.analysis.collapse_study_report import study_markdown
from mmconvnextv2.analysis.collapse_taps import TAPS
from mmconvnextv2.analysis.runner import data_options, repo_root

ROOT = repo_root()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seed', type=int, default=0,
                        help="the quickstart's seed: data, pre-training and "
                        'random networks')
    parser.add_argument('--work-dir', default=None,
                        help='default: work_dirs/collapse (-seed<N>)')
    parser.add_argument('--data-root', default=None,
                        help="default: the quickstart's for --seed")
    parser.add_argument('--num-images', type=int, default=32,
                        help='validation images analysed')
    parser.add_argument('--size', type=int, default=224,
                        help='analysis resize/crop (the 128 px images are '
                        'magnified 1.75x, within the pre-training crops\' '
                        'range of 1x-2.2x)')
    parser.add_argument('--taps', nargs='+', choices=TAPS, default=list(TAPS),
                        help='analyses to run (the first is the headline)')
    parser.add_argument('--jobs', type=int, default=2,
                        help='pre-trainings at once')
    parser.add_argument('--threads', type=int, default=1,
                        help='threads of each pre-training')
    parser.add_argument('--no-reuse', action='store_true',
                        help="pre-train V2 here even if the quickstart's run "
                        'is finished')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny data and budget: checks the pipeline, '
                        'not the numbers')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    start = time.time()
    # the quickstart's folders for this seed (as tools/quickstart.py names them)
    suffix = f'-seed{args.seed}' if args.seed else ''
    work = osp.join(ROOT, args.work_dir or 'work_dirs/collapse' + suffix)
    data_root = osp.join(ROOT, args.data_root or 'data/synthetic' + suffix)
    from mmconvnextv2.datasets import make_synthetic_data
    make_synthetic_data(data_root, seed=args.seed, **(
        quickstart.SMOKE_DATA if args.smoke else quickstart.DATA))
    budget = quickstart.config_length(args.smoke)
    # the quickstart's V2 pre-training is this one when the data is its own
    # and its length the config's (a checkpoint of this budget is looked for)
    reuse = [] if args.no_reuse or args.smoke or args.data_root else [
        osp.join(ROOT, 'work_dirs/quickstart' + suffix, 'pretrain')]
    try:
        study = collapse_study(
            quickstart.FCMAE_CFG, work, osp.join(data_root, 'coco', 'val'),
            budget, seed=args.seed,
            data_options=data_options('fcmae', data_root),
            reuse_v2=reuse, taps=args.taps, num_images=args.num_images,
            size=args.size, jobs=args.jobs, threads=args.threads,
            data_s=time.time() - start)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    print('\n' + study_markdown(study))
    print(f'\nwrote {work}/study.md, study.json and per tap collapse.png, '
          'activations.png')
    return study


if __name__ == '__main__':
    main()
