"""Write a training config for an imported data folder, and its FCMAE
pre-training config beside it; then pre-flight the data.

    python tools/misc/dataset_config.py OUT --task det --out my_det.py \\
        [--arch atto] [--image-size S] [--iters N] [--batch-size B] \\
        [--pretrain-iters N]

OUT is a folder written by tools/dataset_converters/import_dataset.py (with
its dataset.json). Written: CFG (inherits the task's synthetic config:
classes, num_classes, data paths, scale, schedule, mean/std from the data),
CFG_fcmae.py (FCMAE on the training images only, same arch and scale),
CFG_fcmae_train.txt (those images) and, for cls, CFG_train.txt and
CFG_val.txt (image and label, by dataset.json's class order). Then every
image and annotation is checked (as tools/misc/check_dataset.py) and the
config's first lines are printed. Exit status 1 if the pre-flight finds a
problem (the configs are kept).
"""
import argparse
import sys
from typing import List, Optional

import mmconvnextv2  # noqa: F401  (registers our modules and config prefix)
from mmconvnextv2.datasets.config_writer import preflight, write_configs
from mmconvnextv2.datasets.dataset_info import TASKS
from mmconvnextv2.models.backbones.convnext_v2 import ConvNeXtV2
from mmconvnextv2.utils import exit_on_reported_errors

SHOWN_LINES = 24


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('data', help='the imported folder (with dataset.json)')
    parser.add_argument('--task', choices=TASKS,
                        help='det, seg or cls (default: dataset.json\'s; '
                        'must agree with it)')
    parser.add_argument('--arch', default='atto',
                        choices=list(ConvNeXtV2.arch_settings))
    parser.add_argument('--image-size', type=int, help='det/seg: the long '
                        'side frames are resized to; cls: the crop side '
                        '(default: from the median image, at most 512 / 224)')
    parser.add_argument('--iters', type=int, help='fine-tuning iterations '
                        '(default: 12 epochs, at least 100)')
    parser.add_argument('--batch-size', type=int,
                        help='images per batch (default: det/seg 2, cls 16)')
    parser.add_argument('--pretrain-iters', type=int, help='FCMAE iterations '
                        '(default: 100 epochs, at least 100)')
    parser.add_argument('--out', required=True, help='the config to write')
    parser.add_argument('--no-check', action='store_true',
                        help='skip the pre-flight of every image')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    with exit_on_reported_errors():
        written = write_configs(
            args.data, args.out, task=args.task, arch=args.arch,
            image_size=args.image_size, iters=args.iters,
            batch_size=args.batch_size, pretrain_iters=args.pretrain_iters)
        problems = preflight(written.config, thorough=not args.no_check)
        preflight(written.fcmae_config, thorough=False)
    with open(written.config, encoding='utf-8') as f:
        lines = f.read().splitlines()
    print('\n'.join(lines[:SHOWN_LINES]))
    if len(lines) > SHOWN_LINES:
        print(f'# ... ({len(lines) - SHOWN_LINES} more lines)')
    print(f'\nwrote {written.config}\n      {written.fcmae_config}\n      '
          f'{written.image_list}')
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(f'error: {len(problems)} problem(s) in the data (listed '
                 'above; tools/misc/check_dataset.py CONFIG checks again)')
    if not args.no_check:
        print('pre-flight: no problem found in the train/val data')


if __name__ == '__main__':
    main()
