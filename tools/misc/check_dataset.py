"""Pre-flight a config's datasets: decode every image, check every annotation.

COCO files: schema, image files present (and of the stated size), categories
vs the config's classes, polygons and RLE, degenerate boxes, crowd flags.
Segmentation folders (ADE20K layout): every label map present, the size of
its image, values within the classes + the ignore value. Every problem is
printed (file, what, where); the exit status is 1 if there is any::

    python tools/misc/check_dataset.py CONFIG [--split train|val|test] \\
        [--cfg-options train_dataloader.dataset.data_root=...]
"""
import argparse
import sys
from typing import List, Optional

from mmengine.config import Config, DictAction

import mmconvnextv2  # noqa: F401  (registers our modules)
from mmconvnextv2.datasets.checks import SPLITS, find_dataset_problems
from mmconvnextv2.runtime import merge_cfg_options


def check(cfg: Config, splits: List[str]) -> int:
    """Print the problems of ``splits``; return how many there are."""
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    problems = find_dataset_problems(cfg, [SPLITS[s] for s in splits])
    for problem in problems:
        print(problem)
    names = '/'.join(splits)
    print(f'{len(problems)} problem(s) in the {names} data'
          if problems else f'{names} data: no problem found',
          file=sys.stderr if problems else sys.stdout)
    return len(problems)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--split', choices=sorted(SPLITS), action='append',
                        help='check this split (repeatable; default: all)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    if check(cfg, args.split or list(SPLITS)):
        sys.exit(1)


if __name__ == '__main__':
    main()
