"""Run a trained detection, segmentation or classification model on images.

    python tools/infer.py CONFIG CHECKPOINT INPUT... [--out DIR]
        [--device cpu|cuda] [--score-thr T] [--topk K] [--bands 3,2,1]

INPUT: images and/or folders (the images directly inside). Writes one drawing
per image to DIR/vis/, the label maps of a segmentation model to DIR/labels/
(PNG, one label per pixel) and every prediction to DIR/predictions.json:
detection boxes (x1, y1, x2, y2), scores, labels and masks (COCO RLE);
segmentation label-map paths and the classes present; classification top-k
classes with their scores. Images of any depth and band count (TIFF, PNG,
.npy) are read as the config's LoadAnyImageFromFile reads them; a drawing
shows the first three bands (one band: grey), or the --bands given,
stretched to 8 bits. The model runs in mmdet's / mmseg's / mmpretrain's
own inferencer; the checkpoint is read by mmconvnextv2.checkpoint (a
classifier config also takes official, timm, mmpretrain and Hugging Face
files). The logic lives in mmconvnextv2/apis/inference.py (inputs, the JSON)
and mmconvnextv2/apis/predictors.py (one predictor per task).
"""
import argparse
import os.path as osp
import sys
import time
from typing import List, Optional

from mmconvnextv2.apis.inference import run_inference
from mmconvnextv2.utils.display import parse_bands


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a detection, segmentation or '
                        'classification config of this project')
    parser.add_argument('checkpoint', help='the trained weights')
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='image files and/or folders of images')
    parser.add_argument('--out', default='work_dirs/infer',
                        help='output folder (default: work_dirs/infer)')
    parser.add_argument('--device', default='cpu',
                        help='cpu or cuda (default: cpu)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: lowest score drawn and listed')
    parser.add_argument('--topk', type=int, default=5,
                        help='classification: classes listed per image')
    parser.add_argument('--bands', help='bands drawn, indices into the '
                        "model's input bands: one (grey) or three (red, "
                        'green, blue), e.g. 3,2,1 (default: the first three, '
                        'or the first of a grey image)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        summary = run_inference(args.config, args.checkpoint, args.inputs,
                                args.out, device=args.device,
                                score_thr=args.score_thr, topk=args.topk,
                                bands=parse_bands(args.bands))
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    images = summary['images']
    per_image = sum(r['seconds'] for r in images) / len(images)
    print(f'{summary["task"]}: {len(images)} image(s) in '
          f'{time.perf_counter() - start:.1f} s ({per_image:.3f} s per image '
          f'after loading); drawings in {osp.join(args.out, "vis")}, '
          f'predictions in {osp.join(args.out, "predictions.json")}')


if __name__ == '__main__':
    main()
