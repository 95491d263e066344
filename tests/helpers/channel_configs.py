"""Our Mask R-CNN, UperNet and classifier test configs made C-channel for
inference and export tests: the C-channel stem, ``LoadAnyImageFromFile``,
and the normalisation in the preprocessor (1 band: mmengine's
preprocessors take 1 or 3 values) or in the pipeline (4 bands:
``Normalize(to_rgb=False)`` and a mean-free preprocessor); untrained
checkpoints of them."""
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config

from mmconvnextv2.apis import load_config
from mmconvnextv2.utils.models import build_model

from helpers.classifier import CONFIG, ROOT
from helpers.trained import DET_CONFIG, SEG_CONFIG

CONFIGS = {'det': DET_CONFIG, 'seg': SEG_CONFIG, 'cls': CONFIG}
PACK = {
    'det': dict(type='PackDetInputs', meta_keys=(
        'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
    'seg': dict(type='PackSegInputs'),
    'cls': dict(type='PackInputs'),
}
RESIZE = {'det': (128, 128), 'seg': (128, 128), 'cls': (32, 32)}
#: 16-bit grey: one mean / std in the preprocessor.
GREY = dict(mean=[32768.], std=[18918.])
STEM_KEY = 'backbone.downsample_layers.0.0.weight'


def channel_config(task: str, channels: int) -> Config:
    """The task's config for ``channels``-band images (see the module
    doc)."""
    cfg = load_config(osp.join(ROOT, CONFIGS[task]))
    cfg.model.backbone.in_channels = channels
    norm = []
    if channels == 1:
        pre = dict(GREY)
    else:
        pre = dict(mean=None, std=None)
        norm = [dict(type='Normalize', mean=[0.] * channels,
                     std=[1.] * channels, to_rgb=False)]
    pre['bgr_to_rgb' if task != 'cls' else 'to_rgb'] = False
    if task == 'cls':
        cfg.data_preprocessor.update(pre)
    else:
        cfg.model.data_preprocessor.update(pre)
    cfg.test_dataloader.dataset.pipeline = [
        dict(type='LoadAnyImageFromFile'),
        dict(type='Resize', scale=RESIZE[task], keep_ratio=False),
        *norm, PACK[task]]
    return cfg


def save_untrained(cfg: Config, path: str,
                   stem_channels: Optional[int] = None, seed: int = 0) -> str:
    """Save freshly built weights of ``cfg.model`` to ``path`` (a stem of
    ``stem_channels`` input channels instead of the model's, if given)."""
    torch.manual_seed(seed)
    state = build_model(cfg, init=False).state_dict()
    if stem_channels is not None:
        c0, _, p, _ = state[STEM_KEY].shape
        state[STEM_KEY] = torch.randn(c0, stem_channels, p, p)
    torch.save({'state_dict': state}, path)
    return path
