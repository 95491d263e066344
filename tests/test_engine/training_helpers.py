"""A tiny FCMAE run (atto, 64 px, batch 2, CPU) through tools/train.py, for
the tests of checkpoint safety. Each run takes about 10 s on 2 cores."""
import os
import os.path as osp
import subprocess
import sys
from typing import List, Optional

import numpy as np
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOLDER_CONFIG = osp.join(
    ROOT, 'configs/fcmae/fcmae_convnext-v2-atto_1xb32-coslr-5000i_custom-folder.py')
SLOW_SAVE = osp.join(ROOT, 'tests/test_engine/slow_save.py')

CONFIG = f'''_base_ = [{FOLDER_CONFIG!r}]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={{data!r}}, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.0),
             backend='pillow', interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackInputs')]))
train_cfg = dict(max_iters=6)
# a constant, large learning rate: a resume that differs shows in the weights
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False,
                        begin=0, end=6)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2, max_keep_ckpts=3))
randomness = dict(seed=0)
'''


def write_tiny_run(root: str) -> str:
    """Write 6 random images and the config; return the config's path."""
    data = osp.join(root, 'images')
    os.makedirs(data, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        img = rng.integers(0, 255, (48, 56, 3), dtype=np.uint8)
        Image.fromarray(img).save(osp.join(data, f'{i}.png'))
    path = osp.join(root, 'tiny_fcmae.py')
    with open(path, 'w') as f:
        f.write(CONFIG.format(data=data))
    return path


def env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
                PYTHONWARNINGS='ignore', PYTHONUNBUFFERED='1')


def train_cmd(config: str, work_dir: str, *args: str,
              slow: Optional[str] = None) -> List[str]:
    cmd = [sys.executable]
    if slow:
        cmd += [SLOW_SAVE, slow]
    return cmd + ['tools/train.py', config, '--work-dir', work_dir, *args]


def train(config: str, work_dir: str, *args: str, check: bool = True,
          **popen) -> subprocess.CompletedProcess:
    """Run tools/train.py to its end; return the finished process."""
    done = subprocess.run(train_cmd(config, work_dir, *args), cwd=ROOT,
                          env=env(), capture_output=True, text=True,
                          timeout=300, **popen)
    if check:
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done
