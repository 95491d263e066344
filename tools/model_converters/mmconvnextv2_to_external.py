"""Write a ConvNeXt V2 checkpoint of ours as timm, Hugging Face or official weights.

SRC is any checkpoint of ours (an FCMAE run, a fine-tuned classifier, a
detector or segmentor; or a file of any layout the loader reads). Layouts:

- ``timm``: a state dict for ``timm.create_model('convnextv2_<arch>')``
  (``DST`` a ``.pth``, or ``.safetensors``);
- ``huggingface``: a folder ``DST`` with ``config.json`` + ``model.safetensors``
  for ``ConvNextV2Model`` / ``ConvNextV2ForImageClassification.from_pretrained``;
- ``official``: the official repository's dense file ``{'model': ...}``.

Parts a layout cannot hold (a detector's neck and heads, the FCMAE decoder,
per-stage output norms) are refused unless ``--backbone-only``. Example::

    python tools/model_converters/mmconvnextv2_to_external.py \\
        work_dirs/fcmae/iter_5000.pth convnextv2-atto-hf --layout huggingface \\
        --backbone-only
"""
import argparse
import sys
from typing import List, Optional

from mmconvnextv2.checkpoint.writers import EXPORT_LAYOUTS, export_checkpoint


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='checkpoint to export (path or URL)')
    parser.add_argument('dst', help='output file (timm, official) or folder '
                        '(huggingface)')
    parser.add_argument('--layout', required=True, choices=EXPORT_LAYOUTS)
    parser.add_argument(
        '--backbone-only', action='store_true',
        help='write the ConvNeXt V2 network alone: drop a classifier head, an '
        "FCMAE decoder, a detector's or segmentor's neck and heads and the "
        'per-stage output norms but the last')
    mlp = parser.add_mutually_exclusive_group()
    mlp.add_argument('--timm-conv-mlp', dest='conv_mlp', action='store_const',
                     const=True, help='timm: 1x1-conv MLP weights (default for '
                     'atto..nano, as timm builds them)')
    mlp.add_argument('--timm-linear-mlp', dest='conv_mlp',
                     action='store_const', const=False,
                     help='timm: Linear MLP weights (default from tiny up)')
    parser.add_argument('--image-size', type=int, default=224,
                        help='huggingface: image_size in config.json')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        source = export_checkpoint(args.src, args.dst, args.layout,
                                   args.backbone_only, args.conv_mlp,
                                   args.image_size)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'wrote {args.src} ({source} layout) as {args.layout} -> {args.dst}')


if __name__ == '__main__':
    main()
