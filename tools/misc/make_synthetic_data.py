"""Write the synthetic COCO and ADE20K datasets used by the synthetic configs.

    python tools/misc/make_synthetic_data.py --out data/synthetic --seed 0 \
        --num-train 32 --num-val 8 --size 128 [--num-unlabelled 512]

gives ``data/synthetic/coco`` (read by
``configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py``) and
``data/synthetic/ade`` (read by
``configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py``) and, with
``--num-unlabelled N``, ``data/synthetic/unlabelled`` (N images without
annotations, read by the synthetic FCMAE config).
Deterministic by seed; a dataset already complete with the same parameters
is skipped, an incomplete or different one is replaced (atomically).
"""
import argparse
import time

from mmconvnextv2.datasets import make_synthetic_data


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/synthetic',
                        help='parent folder of coco/ and ade/')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=32)
    parser.add_argument('--num-val', type=int, default=8)
    parser.add_argument('--num-unlabelled', type=int, default=0,
                        help='images in the unannotated pool for FCMAE')
    parser.add_argument('--size', type=int, default=128,
                        help='side of the square images, in pixels')
    parser.add_argument('--only', choices=['coco', 'ade'], nargs='+',
                        default=['coco', 'ade'],
                        help='write only these datasets')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.time()
    paths = make_synthetic_data(args.out, seed=args.seed,
                                num_train=args.num_train,
                                num_val=args.num_val, size=args.size,
                                which=args.only,
                                num_unlabelled=args.num_unlabelled)
    for name, path in paths.items():
        print(f'{name}: {path}')
    print(f'done in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
