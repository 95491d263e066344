"""The FCMAE reconstruction visualiser writes a grid PNG of the expected size."""
import os.path as osp

import numpy as np
import torch
from PIL import Image
from mmpretrain.registry import MODELS
from helpers.tools import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = '''
custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)
default_scope = 'mmpretrain'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28,
    103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
model = dict(
    type='FCMAE', mask_ratio=0.6,
    backbone=dict(type='ConvNeXtV2', arch=dict(depths=[1, 1, 1, 1],
                  channels=[8, 8, 16, 16]), gap_before_final_norm=False,
                  norm_outputs=False),
    neck=dict(type='FCMAEDecoder', in_channels=16, embed_dims=16),
    head=dict(type='MAEPretrainHead', patch_size=32, norm_pix=True,
              loss=dict(type='PixelReconstructionLoss', criterion='L2')))
'''


def load_tool():
    return load_script('tools/misc/visualize_fcmae.py')


def test_writes_grid_png(tmp_path):
    config = tmp_path / 'fcmae_tiny.py'
    config.write_text(CONFIG)
    from mmengine.config import Config
    cfg = Config.fromfile(str(config))
    model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    model.init_weights()
    ckpt = tmp_path / 'fcmae.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    images = tmp_path / 'images'
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (80, 100, 3), dtype=np.uint8)).save(
            images / f'{i}.png')
    out = tmp_path / 'vis' / 'grid.png'
    load_tool().main([str(config), str(ckpt), str(images), '--out', str(out),
                      '--size', '64', '--num', '2'])
    grid = np.asarray(Image.open(out))
    assert grid.shape == (2 * 64, 4 * 64, 3)
    # masked input: the network's zero input, i.e. the mean colour, on the
    # masked patches (3 of 4 at 64x64, ratio 0.6), the original elsewhere
    hidden = (grid[:, 64:128] == [124, 116, 104]).all(axis=-1)
    assert 0.7 < hidden.mean() < 0.8
    assert np.array_equal(grid[:, 64:128][~hidden], grid[:, :64][~hidden])
    # pasted column equals the original at visible pixels, not elsewhere
    assert np.array_equal(grid[:, 192:][~hidden], grid[:, :64][~hidden])
    assert not np.array_equal(grid[:, 192:][hidden], grid[:, :64][hidden])
