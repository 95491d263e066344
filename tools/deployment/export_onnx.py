"""Export a trained model to ONNX and check the file against PyTorch.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out FILE
        [--shape H W] [--what backbone|model] [--tolerance T]

--what backbone (any config): the multi-scale feature maps feat0..3.
--what model (default): a classifier's logits, UperNet's segmentation logits
at the input size, Mask R-CNN's backbone + FPN (fpn0..4; the two-stage heads
are mmdeploy's domain). The batch axis is dynamic; H and W are fixed at
--shape (multiples of 32, default 224 224); the channels are the
backbone's in_channels (1..16; `channels` in the file's metadata). The
input is the image normalised as the config's data_preprocessor (or, for a
C-channel config that normalises there, its test pipeline) does (mean/std
in the file's metadata). After writing, the file runs in onnxruntime on a random batch of
2 and the largest absolute and relative (to the largest PyTorch value)
difference of each output is printed; the tool fails when a relative
difference exceeds --tolerance (default 1e-4). Needs the `export` extra:
pip install -e ".[export]". The logic lives in mmconvnextv2/apis/export.py.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmconvnextv2.apis.export import (WHATS, build_export_module, check_shape,
                                      export_and_check, input_channels,
                                      preprocessing_meta, require_onnx)

TOLERANCE = 1e-4  # fp32 on both sides: differences of 1e-7 .. 1e-6 are usual


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='the .onnx file to write')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224],
                        metavar=('H', 'W'), help='input height and width '
                        '(multiples of 32; default 224 224)')
    parser.add_argument('--what', choices=WHATS, default='model',
                        help='backbone feature maps, or the whole model '
                        '(default)')
    parser.add_argument('--tolerance', type=float, default=TOLERANCE,
                        help='largest accepted relative difference '
                        f'(default {TOLERANCE})')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        shape = check_shape(args.shape)
        require_onnx()
        module, names, cfg, task = build_export_module(
            args.config, args.checkpoint, args.what)
    except (FileNotFoundError, ValueError, ImportError) as err:
        sys.exit(f'error: {err}')
    channels = input_channels(module)
    meta = dict(preprocessing_meta(cfg), config=osp.basename(args.config),
                task=task, what=args.what, outputs=','.join(names),
                channels=str(channels))
    diffs = export_and_check(module, names, args.out, shape, meta)
    print(f'wrote {args.out}: input (N, {channels}, {shape[0]}, {shape[1]}) '
          f'normalised with mean {meta["mean"]} std {meta["std"]} '
          f'(RGB: {meta["rgb"]}); outputs {", ".join(names)}')
    if task == 'det' and args.what == 'model':
        print('note: backbone + neck only; the RPN and RoI heads (NMS, '
              'RoIAlign) are exported by mmdeploy')
    worst = 0.0
    for name, (abs_diff, rel_diff) in diffs.items():
        worst = max(worst, rel_diff)
        print(f'  {name}: max abs diff {abs_diff:.2e}, max rel diff '
              f'{rel_diff:.2e} (onnxruntime vs PyTorch, batch 2)')
    if worst > args.tolerance:
        sys.exit(f'error: onnxruntime differs from PyTorch by {worst:.2e} '
                 f'(relative) > tolerance {args.tolerance:.0e}')
    print(f'parity OK: max rel diff {worst:.2e} <= {args.tolerance:.0e}')


if __name__ == '__main__':
    main()
