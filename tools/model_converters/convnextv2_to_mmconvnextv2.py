"""Convert a ConvNeXt V2 checkpoint of any known layout to mmconvnextv2's.

Reads official dense files (``convnextv2_*.pt``), raw MinkowskiEngine FCMAE
training checkpoints, timm, mmpretrain and Hugging Face (``.safetensors``,
``pytorch_model.bin`` or a ``save_pretrained`` directory) weights, and writes
``{'state_dict': <our full-model layout>, 'meta': {'source_layout': ...}}``.

Example::

    python tools/model_converters/convnextv2_to_mmconvnextv2.py \
        convnextv2_base_1k_224_fcmae.pt convnext-v2-base_fcmae.pth
"""
import argparse
import sys
from typing import List, Optional

import torch

from mmconvnextv2.checkpoint import (backbone_part, convert_state,
                                     detect_layout, read_checkpoint,
                                     unwrap_state)
from mmconvnextv2.utils import write_via_temp


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='checkpoint to convert (path or URL)')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument(
        '--backbone-only', action='store_true',
        help='keep only the backbone.* weights (drop head and FCMAE decoder)')
    return parser.parse_args(argv)


def save_atomically(obj: dict, dst: str) -> None:
    """``torch.save`` to a temporary file beside ``dst``, then rename it over
    ``dst``: no half-written checkpoint ever exists under that name."""
    write_via_temp(dst, lambda tmp: torch.save(obj, tmp))


def convert(src: str, dst: str, backbone_only: bool = False) -> str:
    """Convert ``src`` into ``dst``; return the detected source layout."""
    state = unwrap_state(read_checkpoint(src))
    layout = detect_layout(state)
    converted = convert_state(state, layout)
    if backbone_only:
        converted = type(converted)(
            ('backbone.' + k, v) for k, v in backbone_part(converted).items())
    save_atomically(
        dict(state_dict=converted, meta=dict(source_layout=layout, source=src)),
        dst)
    return layout


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        layout = convert(args.src, args.dst, args.backbone_only)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'converted {args.src} ({layout} layout) -> {args.dst}')


if __name__ == '__main__':
    main()
