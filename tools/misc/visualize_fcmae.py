"""Write an FCMAE reconstruction grid PNG for a checkpoint and a folder of images.

Columns: original | masked input | reconstruction | reconstruction with the
visible patches pasted back. Example::

    python tools/misc/visualize_fcmae.py \\
        configs/fcmae/fcmae_convnext-v2-atto_8xb512-amp-coslr-800e_in1k.py \\
        convnextv2_atto_1k_224_fcmae.pt path/to/images --out recon.png
"""
import argparse
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from PIL import Image

import mmconvnextv2  # noqa: F401
from mmconvnextv2.checkpoint import load_fcmae_checkpoint
from mmconvnextv2.utils import list_images, write_via_temp
from mmconvnextv2.visualization import load_images, reconstruction_grid



def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='an FCMAE config')
    parser.add_argument('checkpoint', help='FCMAE checkpoint, any known layout')
    parser.add_argument('images', help='folder of images (searched recursively)')
    parser.add_argument('--out', default='fcmae_reconstruction.png')
    parser.add_argument('--num', type=int, default=4, help='images to show')
    parser.add_argument('--size', type=int, default=224, help='crop size')
    parser.add_argument('--seed', type=int, default=0, help='mask seed')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.copy()
    model_cfg.pop('init_cfg', None)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    model.init_weights()
    load_fcmae_checkpoint(model, args.checkpoint)

    paths = list_images(args.images)[:args.num]
    if args.size % model.patch_size:
        raise ValueError(f'--size {args.size} is not divisible by the patch '
                         f'size {model.patch_size}')
    grid = reconstruction_grid(model, load_images(paths, args.size), args.seed)
    write_via_temp(args.out, Image.fromarray(grid).save)
    print(f'wrote {args.out} ({grid.shape[1]}x{grid.shape[0]}, '
          f'{len(paths)} images)')
    return args.out


if __name__ == '__main__':
    main()
