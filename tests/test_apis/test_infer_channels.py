"""Inference on C-channel images: our Mask R-CNN, UperNet and classifier
configs made 1-channel (16-bit grey TIFF) and 4-channel (float32 TIFF,
float32 .npy) predict and draw through tools/infer.py's package path; the drawing shows
the bands by the display helper (grey drawn as grey, ``bands`` chosen);
bands the model lacks are refused in one line. Untrained weights saved by
the tests."""
import json
import os.path as osp
import re

import numpy as np
import pytest
from helpers.channel_configs import channel_config, save_untrained
from helpers.modalities import array_npy, bands_tiff, grey16_tiff
from PIL import Image

from mmconvnextv2.apis import run_inference
from mmconvnextv2.apis.image_inputs import ImageReader
from mmconvnextv2.utils.display import display_rgb


@pytest.mark.parametrize('task', ['det', 'seg', 'cls'])
@pytest.mark.parametrize('channels', [1, 4])
def test_infer_on_c_channel_images(tmp_path, task, channels):
    if channels == 1:
        image, pixels = grey16_tiff(str(tmp_path), size=48)
    elif task == 'seg':  # an array file: drawn as vis/array.png
        image, pixels = array_npy(str(tmp_path), bands=4, size=48)
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
    if image.endswith('.npy'):
        assert record['visualization'] == osp.join(out, 'vis', 'array.png')
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
