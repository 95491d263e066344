"""ConvNeXt V1 vs V2 under FCMAE, downstream: V1-FCMAE, V2-FCMAE and random
initialisation (of each block type) fine-tuned on the quickstart's Mask R-CNN
and UperNet tasks, seeds 0 1 2 by default, mean +- std.

    python tools/analysis_tools/codesign_study.py            # make codesign
    python tools/analysis_tools/codesign_study.py --seeds 0 1 2 3 4
    python tools/analysis_tools/codesign_study.py --smoke    # tiny budgets

The V2 arm shares the quickstart's work dir (work_dirs/quickstart): a
finished quickstart's pre-training and seed-0 runs are reused. Writes
work_dirs/codesign/codesign.{md,json,png}. The study is
:mod:`mmconvnextv2.analysis.codesign`.
"""
import argparse
import os.path as osp
from typing import List, Optional

from mmconvnextv2.analysis.codesign import run_codesign
from mmconvnextv2.analysis.codesign_report import codesign_table
from mmconvnextv2.analysis.quickstart import pretrain_budget
from mmconvnextv2.analysis.runner import repo_root


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/codesign')
    parser.add_argument('--v2-work-dir', default='work_dirs/quickstart',
                        help="the V2 arm's study (default: the quickstart's)")
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--smoke', action='store_true',
                        help='tiny budgets: checks the pipeline, not the numbers')
    parser.add_argument('--quiet', action='store_true')
    args = parser.parse_args(argv)
    root = repo_root()
    work = osp.join(root, args.work_dir)
    studies = run_codesign(work, osp.join(root, args.v2_work_dir),
                           osp.join(root, args.data_root), args.seeds,
                           args.smoke, args.jobs, args.quiet)
    print('\n' + codesign_table(studies, pretrain_budget(args.smoke)))
    print(f'\nwrote {work}/codesign.md, codesign.json and codesign.png')


if __name__ == '__main__':
    main()
