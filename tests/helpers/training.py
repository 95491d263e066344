"""A tiny FCMAE run (atto, 64 px, batch 2, CPU) through tools/train.py, for
the tests of checkpoint safety. Each run takes about 10 s on 2 cores."""
import os
import os.path as osp
import subprocess
from typing import List, Optional, Tuple

import numpy as np
from PIL import Image

from mmconvnextv2.analysis.runner import capture_tool, start_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOLDER_CONFIG = osp.join(
    ROOT, 'configs/fcmae/fcmae_convnext-v2-atto_1xb32-coslr-5000i_custom-folder.py')
SLOW_SAVE = osp.join(ROOT, 'tests/helpers/slow_save.py')

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


#: One thread per run (the 2 cores are shared), no warnings in the output.
THREADS = 1
QUIET = {'PYTHONWARNINGS': 'ignore'}


def train_tool(config: str, work_dir: str, *args: str,
               slow: Optional[str] = None) -> Tuple[str, List[str]]:
    """``(tool, args)`` of a tools/train.py run; with ``slow``, through
    slow_save.py, which slows the save of the checkpoint named ``slow``."""
    args_ = ['tools/train.py', config, '--work-dir', work_dir, *args]
    return (SLOW_SAVE, [slow, *args_]) if slow else (args_[0], args_[1:])


def start_train(config: str, work_dir: str, *args: str,
                slow: Optional[str] = None) -> subprocess.Popen:
    """Start tools/train.py, its output (stdout and stderr) on a pipe."""
    return start_tool(*train_tool(config, work_dir, *args, slow=slow),
                      threads=THREADS, env=QUIET)


def train(config: str, work_dir: str, *args: str, check: bool = True,
          **popen) -> subprocess.CompletedProcess:
    """Run tools/train.py to its end; return the finished process
    (``popen``: further ``subprocess.run`` arguments)."""
    done = capture_tool(*train_tool(config, work_dir, *args), threads=THREADS,
                        env=QUIET, timeout=300, **popen)
    if check:
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


#: A config module that makes the loss NaN at chosen iterations (the
#: non-finite loss tests, one process and several).
INJECT = '''
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class NaNLossAt(Hook):
    """Make the first loss term NaN at the given (1-based) iterations, on
    the given ranks (default all)."""

    def __init__(self, iters, ranks=None):
        from mmengine.dist import get_rank
        self.iters = set(iters) if ranks is None or get_rank() in ranks \
            else set()

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) \\
            else runner.model
        original = model.loss

        def loss(*args, **kwargs):
            losses = original(*args, **kwargs)
            if runner.iter + 1 in self.iters:
                key = next(k for k in losses if 'loss' in k)
                losses[key] = losses[key] * float('nan')
            return losses
        model.loss = loss
'''
