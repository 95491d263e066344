"""The GPU check: what a CUDA machine measures, in one JSON file.

1. ``backbone``: forward + backward images/s of ours, mmpretrain's ConvNeXt and
   timm's convnextv2 on identical weights, with AMP and channels_last, and
   the peak memory of ours;
2. ``fcmae``: one FCMAE training step, sparse encoder vs the dense-masked
   reference, with AMP: step times, the sparse-vs-dense ratio against the
   FLOP limit of the same shapes, and the peak memory of each;
3. ``fcmae_compiled``: the sparse FCMAE step of small archs (launch-bound)
   eager vs ``torch.compile(mode='reduce-overhead')`` (CUDA graphs);
4. ``train_steps``: real-resolution training steps of Mask R-CNN-base (LSJ
   and ms-crop, 1024) and UperNet-base (512) built from our configs, and of
   mmdet's / mmseg's own ConvNeXt (V1) configs at base, with AMP (GradScaler
   for fp16) and AdamW: median step time, peak memory, the losses.

Every item is measured on its own: one that fails is recorded with its
error and the others still run; the JSON is written atomically. Exit code 1
if any item failed. ``--dry-run`` runs every item on CPU at tiny sizes (atto,
64 px, fp32 unless ``--amp-dtype`` says otherwise) to check the arguments
and the JSON's schema::

    python tools/analysis_tools/gpu_check.py --out work_dirs/gpu_check.json
    python tools/analysis_tools/gpu_check.py --dry-run --out /tmp/check.json

The report is :mod:`mmconvnextv2.analysis.gpu_check`, its items
:mod:`mmconvnextv2.analysis.gpu_items` and
:mod:`mmconvnextv2.analysis.gpu_train_steps`.
"""
import argparse
import sys
from typing import List, Optional, Tuple

import torch

from mmconvnextv2.analysis.gpu_check import (SECTIONS, merge_previous,
                                             run_check)
from mmconvnextv2.analysis.gpu_train_steps import TRAIN_STEPS
from mmconvnextv2.utils import write_json


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True, help='the JSON to write')
    parser.add_argument('--update', action='store_true',
                        help='keep the other sections of an existing --out '
                        '(run the sections in several calls, one JSON)')
    parser.add_argument('--dry-run', action='store_true',
                        help='CPU, atto, tiny sizes: arguments and schema only')
    parser.add_argument('--sections', nargs='+', default=list(SECTIONS),
                        choices=list(SECTIONS))
    parser.add_argument('--backbone-cases', nargs='+',
                        default=['tiny:4', 'tiny:8', 'base:4', 'base:32'],
                        help='ARCH:BATCH at 224 px')
    parser.add_argument('--fcmae-cases', nargs='+',
                        default=['atto:64', 'base:64'], help='ARCH:BATCH')
    parser.add_argument('--compile-cases', nargs='+',
                        default=['atto:64', 'tiny:64'], help='ARCH:BATCH')
    parser.add_argument('--train-steps', nargs='+', default=list(TRAIN_STEPS),
                        choices=list(TRAIN_STEPS))
    parser.add_argument('--amp-dtype', choices=['float16', 'bfloat16', 'none'],
                        help='autocast dtype (default: float16, as mmengine\'s '
                        'AmpOptimWrapper; none in a dry run)')
    parser.add_argument('--no-channels-last', action='store_true')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=10)
    args = parser.parse_args(argv)
    for case in args.backbone_cases + args.fcmae_cases + args.compile_cases:
        arch, _, batch = case.partition(':')
        if not batch.isdigit() or int(batch) < 1:
            parser.error(f'case {case!r} is not ARCH:BATCH (e.g. base:32)')
    if not args.dry_run and not torch.cuda.is_available():
        parser.error('no CUDA device here: run it on a GPU machine, or use '
                     '--dry-run to check it on CPU')
    return args


def cases(items: List[str]) -> List[Tuple[str, int]]:
    return [(c.split(':')[0], int(c.split(':')[1])) for c in items]


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    name = args.amp_dtype or ('none' if args.dry_run else 'float16')
    dtype = None if name == 'none' else getattr(torch, name)
    report = run_check(args.sections, cases(args.backbone_cases),
                       cases(args.fcmae_cases), args.train_steps, dtype,
                       not args.no_channels_last, args.dry_run, args.warmup,
                       args.repeats, cases(args.compile_cases))
    if args.update:
        merge_previous(report, args.out, args.sections)
    write_json(args.out, report)
    print(f'wrote {args.out}; failed: {report["failed"] or "none"}')
    return 1 if report['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
