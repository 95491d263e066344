"""The FCMAE reconstruction visualiser writes a grid PNG of the expected size;
C-channel images (16-bit grey, 4-band float TIFF) are drawn by their bands
through the display helper (grey as grey, --bands chosen)."""
import os.path as osp
from functools import partial

import numpy as np
import pytest
import torch
from helpers.modalities import bands_tiff, grey16_tiff
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


BAND_CONFIG = '''
custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)
default_scope = 'mmpretrain'
model = dict(
    type='FCMAE', mask_ratio=0.6,
    backbone=dict(type='ConvNeXtV2', arch=dict(depths=[1, 1, 1, 1],
                  channels=[8, 8, 16, 16]), in_channels={channels},
                  gap_before_final_norm=False, norm_outputs=False),
    neck=dict(type='FCMAEDecoder', in_channels=16, embed_dims=16),
    head=dict(type='MAEPretrainHead', patch_size=32, norm_pix=True,
              loss=dict(type='PixelReconstructionLoss', criterion='L2')))
train_dataloader = dict(dataset=dict(type='CustomDataset', pipeline=[
    dict(type='LoadAnyImageFromFile'), {normalize}
    dict(type='RandomResizedCrop', scale=64), dict(type='PackInputs')]))
'''
# 1 band: the preprocessor normalises; 4 bands: the pipeline does
NORMALIZE = {
    1: ('', "data_preprocessor = dict(type='SelfSupDataPreprocessor', "
        "mean=[30000.], std=[20000.])"),
    4: ("dict(type='Normalize', mean=[0.5] * 4, std=[2.] * 4, "
        "to_rgb=False),", "data_preprocessor = dict("
        "type='SelfSupDataPreprocessor')"),
}


def band_model(tmp_path, channels):
    """A tiny C-channel FCMAE config, its untrained checkpoint, a folder of
    one 80 px image (16-bit grey or 4-band float TIFF) and its path."""
    from mmengine.config import Config
    normalize, preprocessor = NORMALIZE[channels]
    config = tmp_path / 'fcmae_bands.py'
    config.write_text(BAND_CONFIG.format(channels=channels,
                                         normalize=normalize) + preprocessor)
    cfg = Config.fromfile(str(config))
    model = MODELS.build(dict(cfg.model,
                              data_preprocessor=cfg.data_preprocessor))
    model.init_weights()
    assert model.neck.pred.out_channels == 32 * 32 * channels
    ckpt = tmp_path / 'fcmae.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    images = tmp_path / 'images'
    images.mkdir()
    write = grey16_tiff if channels == 1 else partial(bands_tiff, bands=4)
    path, _ = write(str(images), size=80)
    return str(config), str(ckpt), str(images), path


def drawn_crop(path, bands):
    """The 64 px crop of ``path`` as the display helper draws it."""
    from mmconvnextv2.datasets.transforms.any_image import \
        LoadAnyImageFromFile
    from mmconvnextv2.utils.display import display_rgb
    from mmconvnextv2.visualization import load_any_images
    crop = load_any_images([path], 64, LoadAnyImageFromFile())[0]
    return display_rgb(crop.permute(1, 2, 0).numpy(), bands)


@pytest.mark.parametrize('channels', [1, 4])
def test_band_images_drawn_by_their_bands(tmp_path, channels):
    config, ckpt, images, path = band_model(tmp_path, channels)
    bands, args = (None, []) if channels == 1 else ((3, 2, 1),
                                                     ['--bands', '3,2,1'])
    out = tmp_path / 'grid.png'
    load_tool().main([config, ckpt, images, '--out', str(out), '--size',
                      '64', *args])
    grid = np.asarray(Image.open(out)).astype(int)
    assert grid.shape == (64, 4 * 64, 3)
    original = drawn_crop(path, bands)
    # the first column: the bands asked for, stretched; at most a rounding
    # step off where normalising and back moved a value
    assert np.abs(grid[:, :64] - original).max() <= 1
    if channels == 1:  # grey drawn as grey
        assert (grid[..., 0] == grid[..., 1]).all()
    # masked input, patch by patch (32 px): the original where visible (1
    # of 4 patches at ratio 0.6), one flat colour where masked
    def patches(column):
        tile = grid[:, 64 * column:64 * (column + 1)]
        return [tile[i:i + 32, j:j + 32] for i in (0, 32) for j in (0, 32)]
    visible = [np.abs(m - o).max() <= 1
               for m, o in zip(patches(1), patches(0))]
    assert sum(visible) == 1
    for seen, masked, pasted, orig in zip(visible, patches(1), patches(3),
                                          patches(0)):
        if seen:  # pasted back: the original
            assert np.abs(pasted - orig).max() <= 1
        else:
            assert len(np.unique(masked.reshape(-1, 3), axis=0)) == 1
    assert not np.array_equal(grid[:, 128:192], grid[:, :64])


def test_quickstart_reconstruction_of_chosen_bands(tmp_path):
    from mmconvnextv2.analysis.quickstart_pictures import \
        visualise_reconstruction
    config, ckpt, images, path = band_model(tmp_path, 4)
    out = visualise_reconstruction(str(tmp_path), config, ckpt, images, 64,
                                   bands=(2, ))
    grid = np.asarray(Image.open(out)).astype(int)
    assert grid.shape == (64, 4 * 64, 3)
    assert (grid[..., 0] == grid[..., 2]).all()  # one band: grey
    assert np.abs(grid[:, :64] - drawn_crop(path, (2, ))).max() <= 1
