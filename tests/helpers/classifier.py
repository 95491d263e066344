"""The tiny classifier run the CLI, inference and export tests share: an
ImageNet-layout folder, its config and a tool runner that must succeed."""
import os
import os.path as osp
from typing import List

import numpy as np
from PIL import Image

from mmconvnextv2.analysis import runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = ('tests/data/configs/'
          'convnext-v2-custom_fcmae-pre_1xb4-2e_in1k-folder-32px.py')
WNIDS = ('n01440764', 'n01443537')
TIMEOUT = 300


def write_imagenet_folder(root: str) -> None:
    """``{train,val}/<wnid>/*.png``: 4 training and 2 validation images per
    class, each class a different brightness so that it can be learnt."""
    rng = np.random.default_rng(0)
    for split, per_class in (('train', 4), ('val', 2)):
        for label, wnid in enumerate(WNIDS):
            folder = osp.join(root, split, wnid)
            os.makedirs(folder)
            for i in range(per_class):
                img = rng.integers(0, 60, (32, 32, 3), dtype=np.uint8)
                img += np.uint8(40 + 150 * label)
                Image.fromarray(img).save(osp.join(folder, f'{wnid}_{i}.png'))


def data_options(root: str) -> List[str]:
    """Every loader of the classifier config reads ``root``."""
    return runner.data_options('root', root)


def run(args: List[str]) -> str:
    """Run a tool (``args[0]``, e.g. ``'tools/train.py'``) from the
    repository root with one thread; return its output."""
    proc = runner.capture_tool(args[0], args[1:], threads=1,
                               env={'PYTHONWARNINGS': 'ignore'},
                               timeout=TIMEOUT)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{args} failed:\n{output[-5000:]}'
    return output
