"""Evaluate a checkpoint with any mmconvnextv2 config and print its metrics
(COCO bbox/segm mAP for Mask R-CNN, mIoU for UperNet, accuracy for
classifiers). The metrics also land in ``<work_dir>/<timestamp>/<timestamp>.json``.

    python tools/test.py CONFIG CHECKPOINT [--show-dir vis] [--out preds.pkl]
    bash tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from mmengine.config import Config
from mmengine.dist import is_main_process

import mmconvnextv2  # noqa: F401  (registers our modules)
from mmconvnextv2.datasets import check_dataset_config
from mmconvnextv2.utils import exit_on_reported_errors
from mmconvnextv2.runtime import (add_common_arguments, build_runner,
                                  load_config, parse_tool_args,
                                  prepare_config)

# the visualisation hook of each task (the config's default_scope)
VIS_HOOKS = {'mmdet': 'DetVisualizationHook', 'mmseg': 'SegVisualizationHook',
             'mmpretrain': 'VisualizationHook'}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the raw predictions to this pickle')
    parser.add_argument('--show-dir', help='write drawn predictions into '
                        '<work_dir>/<timestamp>/<show-dir>')
    add_common_arguments(parser)
    return parse_tool_args(parser, argv)


def enable_visualisation(cfg: Config, show_dir: str) -> None:
    """Turn on the task's visualisation hook, drawing into ``show_dir``
    (mmdet: ``<work_dir>/<timestamp>/<show_dir>``; mmseg and mmpretrain:
    ``<work_dir>/<show_dir>`` unless absolute)."""
    scope = cfg.get('default_scope', 'mmpretrain')
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        hook = cfg.default_hooks.visualization = dict(type=VIS_HOOKS[scope])
    hook.pop('show', None)
    if scope == 'mmdet':
        hook.update(draw=True, test_out_dir=show_dir)
        return
    out_dir = show_dir if osp.isabs(show_dir) else osp.join(cfg.work_dir, show_dir)
    if scope == 'mmseg':
        hook.update(draw=True, interval=1)  # mmseg draws every interval-th batch
        cfg.visualizer.save_dir = out_dir
    else:  # mmpretrain draws every interval-th sample (default 5000)
        hook.update(enable=True, out_dir=out_dir, interval=1)


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command line to it."""
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.show_dir:  # after work_dir is known
        enable_visualisation(cfg, args.show_dir)
    if args.out:
        cfg.test_evaluator = list(cfg.test_evaluator) if isinstance(
            cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
    prepare_config(cfg)
    return cfg


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = build_config(args)
    with exit_on_reported_errors():
        # clear errors before anything is written
        check_dataset_config(cfg, dataloaders=('test_dataloader', ))
        metrics = build_runner(cfg).test()
    if is_main_process():  # every rank gets the metrics
        for name, value in metrics.items():
            print(f'{name}: {value}')
    return metrics


if __name__ == '__main__':
    main()
