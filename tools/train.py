"""Train any mmconvnextv2 config (FCMAE, classification, Mask R-CNN, UperNet).

The config's ``default_scope`` (mmpretrain / mmdet / mmseg) picks the task; this
script only builds mmengine's Runner and calls ``train()``. Examples::

    python tools/train.py configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-300i_synthetic-128px.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume --amp \\
        --cfg-options train_dataloader.batch_size=4
    bash tools/dist_train.sh CONFIG 8          # 8 processes (GPUs, or CPU + gloo)
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmconvnextv2  # noqa: F401  (registers our modules)
from mmconvnextv2.datasets import check_dataset_config
from mmconvnextv2.runtime import (adapt_to_machine, enable_amp,
                                  fix_collate_scope, merge_cfg_options,
                                  trust_mmengine_checkpoints)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or without a value from the latest checkpoint '
        'in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (AmpOptimWrapper)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual total batch size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command line to it."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
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
    fix_collate_scope(cfg)
    adapt_to_machine(cfg)
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = build_config(args)
    check_dataset_config(cfg)  # clear errors before anything is written
    trust_mmengine_checkpoints()
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
