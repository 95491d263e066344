"""Does an FCMAE config's data pipeline keep its training step fed on large
frames? Prints the loader's images/s against the step's, and their ratio.

    python tools/analysis_tools/benchmark_loader.py [CONFIG] \\
        [--images DIR | --frames 64 --frame-size 1920x1080] [--workers N] \\
        [--batches 4] [--rounds 2] [--warmup 2] [--steps 3] [--no-draft] \\
        [--no-fed] [--device cpu] [--threads N] [--json OUT.json]

Without ``--images`` it writes synthetic 1920x1080 JPEGs into a temporary
folder. ``--workers`` defaults to the config's ``num_workers``. Besides the
config's pipeline it measures the same with ``DraftLoadImageFromFile`` (JPEGs
decoded at the crop's scale), unless ``--no-draft``.
"""
import argparse
import sys
from typing import List, Optional, Tuple

import torch

import mmconvnextv2  # noqa: F401  (registers the models and transforms)
from mmconvnextv2.analysis.loader_benchmark import (benchmark_loader,
                                                    format_report)
from mmconvnextv2.utils import exit_on_reported_errors, write_json

DEFAULT_CONFIG = ('configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1000i_'
                  'synthetic-128px.py')


def frame_size(text: str) -> Tuple[int, int]:
    """``WxH`` -> ``(w, h)``."""
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'frame size must be WxH, e.g. 1920x1080, got {text!r}') from None
    return width, height


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    parser.add_argument('--images', help='a folder of frames (default: '
                        'synthetic JPEGs in a temporary folder)')
    parser.add_argument('--frames', type=int, default=64)
    parser.add_argument('--frame-size', type=frame_size, default=(1920, 1080))
    parser.add_argument('--workers', type=int,
                        help="loader workers (default: the config's)")
    parser.add_argument('--batch-size', type=int,
                        help="default: the config's")
    parser.add_argument('--batches', type=int, default=4,
                        help='loader batches timed per round')
    parser.add_argument('--rounds', type=int, default=2,
                        help='rounds in which the loaders take turns')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--profile', type=int, default=16,
                        help='images the per-transform times are taken on')
    parser.add_argument('--no-draft', action='store_true')
    parser.add_argument('--no-fed', action='store_true')
    parser.add_argument('--device', help='default: cuda if there is one')
    parser.add_argument('--threads', type=int,
                        help="torch threads of the step (default: torch's)")
    parser.add_argument('--json', help='also write the report here')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with exit_on_reported_errors():
        try:
            report = benchmark_loader(
                args.config, args.images, frames=args.frames,
                frame_size=args.frame_size, workers=args.workers,
                batch_size=args.batch_size, batches=args.batches,
                rounds=args.rounds, warmup=args.warmup, steps=args.steps,
                profile=args.profile, draft=not args.no_draft,
                fed=not args.no_fed, device=args.device)
        except FileNotFoundError as err:  # no folder / no image in it
            sys.exit(f'error: {err}')
    print(format_report(report))
    if args.json:
        write_json(args.json, report)


if __name__ == '__main__':
    main()
