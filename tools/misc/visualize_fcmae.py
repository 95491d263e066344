"""Write an FCMAE reconstruction grid PNG for a checkpoint and a folder of images.

Columns: original | masked input | reconstruction | reconstruction with the
visible patches pasted back. A config loading C-channel images
(LoadAnyImageFromFile: TIFF, 16-bit PNG, .npy) is shown by its first three
bands (one band: grey), or the --bands given, stretched to 8 bits. The
logic lives in mmconvnextv2/visualization.py. Example::

    python tools/misc/visualize_fcmae.py \\
        configs/fcmae/fcmae_convnext-v2-atto_8xb512-amp-coslr-800e_in1k.py \\
        convnextv2_atto_1k_224_fcmae.pt path/to/images --out recon.png
"""
import argparse
import sys
from typing import List, Optional

from mmengine.config import DictAction

import mmconvnextv2  # noqa: F401
from mmconvnextv2.utils.display import parse_bands
from mmconvnextv2.visualization import write_reconstruction


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='an FCMAE config')
    parser.add_argument('checkpoint', help='FCMAE checkpoint, any known layout')
    parser.add_argument('images', help='folder of images (searched recursively)')
    parser.add_argument('--out', default='fcmae_reconstruction.png')
    parser.add_argument('--num', type=int, default=4, help='images to show')
    parser.add_argument('--size', type=int, default=224, help='crop size')
    parser.add_argument('--seed', type=int, default=0, help='mask seed')
    parser.add_argument('--bands', help="bands drawn, indices into the "
                        "model's input bands: one (grey) or three (red, "
                        'green, blue), e.g. 3,2,1 (default: the first three, '
                        'or the first of a grey image)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    try:
        grid, count = write_reconstruction(
            args.config, args.checkpoint, args.images, args.out,
            num=args.num, size=args.size, seed=args.seed,
            bands=parse_bands(args.bands), cfg_options=args.cfg_options)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'wrote {args.out} ({grid.shape[1]}x{grid.shape[0]}, '
          f'{count} images)')
    return args.out


if __name__ == '__main__':
    main()
