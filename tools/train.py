"""Train any mmconvnextv2 config (FCMAE, classification, Mask R-CNN, UperNet).

The config's ``default_scope`` (mmpretrain / mmdet / mmseg) picks the task; this
script only builds mmengine's Runner and calls ``train()``. Examples::

    python tools/train.py configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume --amp \\
        --cfg-options train_dataloader.batch_size=4
    python tools/train.py CONFIG --image-stats data/x/dataset.json  # C bands
    bash tools/dist_train.sh CONFIG 8          # 8 processes (GPUs, or CPU + gloo)

On SIGTERM or SIGUSR1 training finishes the current iteration, saves a
checkpoint and exits with status 75 (``--resume`` continues from it).
Under torchrun (tools/dist_train.sh) a restarted worker group resumes by
itself; a NaN/Inf loss stops training (``max_nonfinite_skips=K`` skips up to
K steps) and a rank that stops answering fails the run after the collective
timeout (``MMCNV2_DIST_TIMEOUT``, default 600 s) with one line naming it.
Checkpoint, dataset-config, resume and corrupt-image errors are printed
as one line.
"""
import argparse
import sys
from typing import List, Optional

from mmengine.config import Config

import mmconvnextv2  # noqa: F401  (registers our modules)
from mmconvnextv2.datasets import check_dataset_config
from mmconvnextv2.datasets.channel_configs import apply_image_stats
from mmconvnextv2.engine.distributed import remember_fatal_error
from mmconvnextv2.utils import exit_on_reported_errors
from mmconvnextv2.runtime import (add_common_arguments, build_runner,
                                  enable_amp, load_config, parse_tool_args,
                                  prepare_config)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or without a value from the latest checkpoint '
        'in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (AmpOptimWrapper)')
    parser.add_argument('--check-data', action='store_true',
                        help='first decode every image and check every '
                        'annotation of the train and val data (as '
                        'tools/misc/check_dataset.py); stop if any problem')
    parser.add_argument('--image-stats', metavar='JSON',
                        help='train on images of the channels, mean and std '
                        'that this dataset.json (or tools/misc/image_stats.py '
                        '--out file) gives: sets the backbone\'s in_channels, '
                        'LoadAnyImageFromFile, the C-channel data '
                        'preprocessor and drops RGB-only transforms')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual total batch size')
    add_common_arguments(parser)
    return parse_tool_args(parser, argv)


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command line to it."""
    cfg = load_config(args)
    if args.image_stats:
        with exit_on_reported_errors():
            for change in apply_image_stats(cfg, args.image_stats):
                print(f'--image-stats: {change}')
    if args.amp:
        enable_amp(cfg)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError(f'{args.config} has no auto_scale_lr.base_batch_size'
                             ' to scale the learning rate from')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    prepare_config(cfg)
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = build_config(args)
    with exit_on_reported_errors():
        check_dataset_config(cfg)  # clear errors before anything is written
    if args.check_data:
        from mmconvnextv2.datasets.checks import find_dataset_problems
        problems = find_dataset_problems(
            cfg, ('train_dataloader', 'val_dataloader'))
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            sys.exit(f'error: {len(problems)} problem(s) in the data (listed '
                     'above); nothing was trained')
    with exit_on_reported_errors(), remember_fatal_error(cfg.work_dir):
        build_runner(cfg).train()


if __name__ == '__main__':
    main()
