"""Inference on C-channel images: our Mask R-CNN, UperNet and classifier
configs made 1-channel (16-bit grey TIFF) and 4-channel (float32 TIFF)
predict and draw through tools/infer.py's package path; the drawing shows
the bands by the display helper (grey drawn as grey, ``bands`` chosen);
bands the model lacks are refused in one line. Untrained weights saved by
the tests."""
import json
import os.path as osp
import re

import numpy as np
import pytest
import torch
from helpers.classifier import CONFIG, ROOT
from helpers.modalities import bands_tiff, grey16_tiff
from helpers.trained import DET_CONFIG, SEG_CONFIG
from PIL import Image

from mmconvnextv2.apis import load_config, run_inference
from mmconvnextv2.apis.image_inputs import ImageReader
from mmconvnextv2.utils.display import display_rgb
from mmconvnextv2.utils.models import build_model

CONFIGS = {'det': DET_CONFIG, 'seg': SEG_CONFIG, 'cls': CONFIG}
PACK = {
    'det': dict(type='PackDetInputs', meta_keys=(
        'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
    'seg': dict(type='PackSegInputs'),
    'cls': dict(type='PackInputs'),
}
RESIZE = {'det': (128, 128), 'seg': (128, 128), 'cls': (32, 32)}
# 16-bit grey: one mean / std in the preprocessor (mmengine's take one)
GREY = dict(mean=[32768.], std=[18918.])


def channel_config(task: str, channels: int):
    """The task's config for ``channels``-band images: the C-channel stem,
    LoadAnyImageFromFile, and normalisation in the preprocessor (1 band) or
    in the pipeline (4 bands: mmengine's preprocessors take 1 or 3)."""
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


def save_untrained(cfg, path: str, channels_of_stem=None) -> str:
    torch.manual_seed(0)
    model = build_model(cfg, init=False)
    state = model.state_dict()
    if channels_of_stem is not None:  # a checkpoint of another stem
        key = 'backbone.downsample_layers.0.0.weight'
        c0, _, p, _ = state[key].shape
        state[key] = torch.randn(c0, channels_of_stem, p, p)
    torch.save({'state_dict': state}, path)
    return path


@pytest.mark.parametrize('task', ['det', 'seg', 'cls'])
@pytest.mark.parametrize('channels', [1, 4])
def test_infer_on_c_channel_images(tmp_path, task, channels):
    if channels == 1:
        image, pixels = grey16_tiff(str(tmp_path), size=48)
    else:
        image, pixels = bands_tiff(str(tmp_path), bands=4, size=48)
    cfg = channel_config(task, channels)
    ckpt = save_untrained(cfg, str(tmp_path / 'model.pth'))
    out = str(tmp_path / 'out')
    bands = None if channels == 1 else (3, 2, 1)
    # detection: nothing reaches the score 1.0, so nothing covers the image
    summary = run_inference(cfg, ckpt, [image], out, score_thr=1.0,
                            bands=bands)
    record, = summary['images']
    assert summary['task'] == task
    with open(osp.join(out, 'predictions.json')) as f:
        assert json.load(f)['images'][0]['image'] == image
    drawing = np.asarray(Image.open(record['visualization']).convert('RGB'))
    shown = display_rgb(pixels, bands)
    if channels == 1:  # grey drawn as grey
        assert (shown[..., 0] == shown[..., 2]).all()
        assert len(np.unique(shown)) > 200  # 16-bit values stretched
    assert drawing.shape == shown.shape
    if task == 'det':  # the bands as the display helper draws them
        np.testing.assert_array_equal(drawing, shown)
    elif task == 'cls':  # mmpretrain writes the classes over the image
        assert (drawing == shown).all(axis=2).mean() > 0.5
    else:  # mmseg blends the label colours with the image
        labels = np.asarray(Image.open(record['label_map']))
        assert labels.shape == (48, 48)
        assert record['classes_present']


def test_image_reader_bands_and_refusal(tmp_path):
    image, pixels = bands_tiff(str(tmp_path), bands=4, size=16)
    cfg = channel_config('cls', 4)
    reader = ImageReader(cfg, channels=4, bands=(3, 2, 1))
    assert not any(step['type'] == 'LoadAnyImageFromFile'
                   for step in cfg.test_dataloader.dataset.pipeline)
    inputs, picture = reader(image)
    assert inputs.shape == (16, 16, 4) and inputs.dtype == np.float32
    np.testing.assert_array_equal(inputs, pixels)
    np.testing.assert_array_equal(picture,
                                  display_rgb(pixels[..., [3, 2, 1]]))
    with pytest.raises(ValueError, match=re.escape(
            'bands [4, 2, 1] asked, the image has 4 band(s) (0..3)')):
        ImageReader(channel_config('cls', 4), channels=4, bands=(4, 2, 1))
