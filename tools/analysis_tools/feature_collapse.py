"""Is GRN doing its job? Measure feature collapse of ConvNeXt (V1 / V2)
checkpoints as in the ConvNeXt V2 paper (Figures 3 and 4).

For every block: the mean pairwise cosine distance between the channels of
the tapped activation (0 = all channels alike) and the fraction of dead
channels, averaged over the first N images of a folder. Writes
``OUT/collapse.json``, ``collapse.md`` (per-stage table), ``collapse.png``
(distance per block, one line per checkpoint) and ``activations.png`` (64
channel maps of one block for the first image, one row per checkpoint)::

    python tools/analysis_tools/feature_collapse.py --arch atto \\
        --checkpoints fcmae=convnextv2_atto_1k_224_fcmae.pt random=random \\
        --images path/to/images --num-images 50 --out work_dirs/collapse

PATH is any checkpoint layout the loader reads, or ``random`` (a seeded fresh
network); add ``:v1`` / ``:v2`` to force the block type (``random:v1`` is a
fresh ConvNeXt V1), otherwise a file's type is read from its keys.
"""
import argparse
import json
import sys
import time
from typing import Dict, List, Optional, Tuple

from mmconvnextv2.analysis.collapse_backbones import (parse_checkpoint_spec,
                                                      quiet_logs)
from mmconvnextv2.analysis.collapse_report import markdown_table
from mmconvnextv2.analysis.collapse_taps import TAPS
from mmconvnextv2.analysis.feature_collapse import feature_collapse


def parse_block(text: str) -> Tuple[int, int]:
    """``S.B`` -> ``(S, B)``."""
    try:
        stage, block = text.split('.')
        return int(stage), int(block)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'block {text!r} is not STAGE.BLOCK, e.g. 2.0') from None


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--arch', default='atto',
                        help='arch name (atto ... huge) or a JSON dict with '
                        '"depths" and "channels"')
    parser.add_argument('--checkpoints', nargs='+', required=True,
                        metavar='LABEL=PATH[:v1|:v2]',
                        help="checkpoint files (any known layout) or 'random'")
    parser.add_argument('--images', required=True, help='folder of images')
    parser.add_argument('--num-images', type=int, default=50,
                        help='the first N images in sorted name order')
    parser.add_argument('--size', type=int, default=224,
                        help='shorter side resize, then centre crop')
    parser.add_argument('--tap', choices=TAPS, default='mlp',
                        help='mlp: after GELU, before GRN (4C wide); grn: '
                        'after GRN (= mlp for V1); block: block output')
    parser.add_argument('--out', default='work_dirs/feature_collapse',
                        help='output folder')
    parser.add_argument('--seed', type=int, default=0,
                        help="seed of the 'random' networks")
    parser.add_argument('--grid-block', type=parse_block, default=None,
                        metavar='S.B', help='block of the activation grid '
                        '(default: the middle block of the network)')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    start = time.time()
    try:
        arch = json.loads(args.arch) if args.arch.lstrip().startswith('{') \
            else args.arch
        specs = [parse_checkpoint_spec(text) for text in args.checkpoints]
        quiet_logs()
        collapse = feature_collapse(
            arch, specs, args.images, args.out, num_images=args.num_images,
            size=args.size, tap=args.tap, seed=args.seed,
            grid_block=args.grid_block, progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print('\n' + markdown_table(collapse))
    print(f'\nwrote {args.out}/collapse.json, collapse.md, collapse.png and '
          f'activations.png in {time.time() - start:.1f} s')
    return collapse


if __name__ == '__main__':
    main()
