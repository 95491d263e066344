"""The one channel option (``set_image_channels``, ``tools/train.py
--image-stats``): each shipped synthetic / classifier config becomes one
that passes the channel check for C channels; bad figures are refused in
one line."""
import json

import pytest
from helpers.tools import load_script
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmconvnextv2.datasets.channel_checks import channel_problems
from mmconvnextv2.datasets.channel_configs import (ImageStatsError,
                                                   adapt_pipeline,
                                                   read_image_stats,
                                                   set_image_channels)

CONFIGS = {
    'fcmae': 'configs/fcmae/'
             'fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py',
    'cls': 'configs/convnext_v2/'
           'convnext-v2-atto_fcmae-pre_32xb32-amp-600e_in1k.py',
    'det': 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py',
    'seg': 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py',
}
PREPROCESSORS = {'fcmae': 'AnyChannelSelfSupDataPreprocessor',
                 'cls': None, 'det': 'AnyChannelDetDataPreprocessor',
                 'seg': 'SegDataPreProcessor'}


def preprocessor(cfg: Config) -> dict:
    return cfg.model.get('data_preprocessor') or cfg.data_preprocessor


@pytest.mark.parametrize('task', list(CONFIGS))
@pytest.mark.parametrize('channels', [1, 4, 13])
def test_shipped_configs_take_c_channels(task, channels):
    cfg = Config.fromfile(CONFIGS[task])
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        assert channel_problems(cfg) == []  # RGB: not checked
        cfg.model.backbone.in_channels = channels
        assert channel_problems(cfg)  # the bare option is not enough
        changes = set_image_channels(cfg, channels, [0.5] * channels,
                                     [2.0] * channels)
        assert channel_problems(cfg) == []
    assert changes[0] == f'model.backbone.in_channels = {channels}'
    node = preprocessor(cfg)
    assert node.mean == [0.5] * channels and node.std == [2.0] * channels
    assert node.get('type') == PREPROCESSORS[task]
    assert not any(node.get(k) for k in ('bgr_to_rgb', 'to_rgb'))
    loads = [t for t in cfg.train_dataloader.dataset.pipeline
             if 'Load' in t['type'] and 'Annotations' not in t['type']]
    assert [t['type'] for t in loads] == ['LoadAnyImageFromFile']
    assert set(loads[0]) <= {'type', 'backend_args'}


def test_colour_operations_leave_the_policies():
    pipeline = adapt_pipeline([
        dict(type='LoadImageFromFile', backend_args=dict(x=1),
             color_type='color'),
        dict(type='ColorJitter', brightness=0.4, saturation=0.4),
        dict(type='RandomApply', transforms=[
            dict(type='RandomGrayscale', prob=0.2), dict(type='Rotate')]),
        dict(type='AutoAugment', policies=[
            [dict(type='Equalize')], [dict(type='Rotate'),
                                      dict(type='Color')]]),
        dict(type='Resize', scale=8, interpolation='area')], 5)
    assert pipeline == [
        dict(type='LoadAnyImageFromFile', backend_args=dict(x=1)),
        dict(type='ColorJitter', brightness=0.4),
        dict(type='RandomApply', transforms=[dict(type='Rotate')]),
        dict(type='AutoAugment', policies=[[dict(type='Rotate')]]),
        dict(type='Resize', scale=8, interpolation='bilinear')]
    with pytest.raises(ImageStatsError, match=r'to_rgb8=True\) does not '
                       r'give the 4 channel\(s\)'):
        adapt_pipeline([dict(type='LoadAnyImageFromFile', to_rgb8=True)], 4)


@pytest.mark.parametrize('content, message', [
    ('{', 'cannot be read as JSON'),
    (dict(channels=4, mean=[1] * 4), 'needs "channels" and per-channel'),
    (dict(channels=4, mean=[1] * 4, std=[1] * 3),
     '4 channels need 4 mean and 4 positive std values, got 4 and 3'),
    (dict(channels=17, mean=[1] * 17, std=[1] * 17),
     '17 channels; 1 to 16 are supported'),
])
def test_bad_image_stats_refused(tmp_path, content, message):
    path = tmp_path / 'stats.json'
    path.write_text(content if isinstance(content, str)
                    else json.dumps(content))
    with pytest.raises(ImageStatsError) as err:
        read_image_stats(str(path))
    assert message in str(err.value) and '\n' not in str(err.value)


def test_train_tool_option(tmp_path, capsys):
    path = tmp_path / 'dataset.json'
    path.write_text(json.dumps(dict(task='det', channels=2, dtype='uint16',
                                    mean=[300, 4000], std=[20, 900])))
    train = load_script('tools/train.py')
    cfg = train.build_config(train.parse_args(
        [CONFIGS['det'], '--image-stats', str(path),
         '--work-dir', str(tmp_path)]))
    assert cfg.model.backbone.in_channels == 2
    assert cfg.model.data_preprocessor.mean == [300, 4000]
    assert '--image-stats: model.backbone.in_channels = 2' in \
        capsys.readouterr().out
    path.write_text('{}')
    with pytest.raises(SystemExit, match='needs "channels"'):
        train.build_config(train.parse_args(
            [CONFIGS['det'], '--image-stats', str(path)]))


def _run_train_pipeline(cfg: Config, img, times: int = 12):
    """The config's training pipeline after its loader, ``times`` over
    ``img`` (numpy seeded): the last output."""
    import numpy as np
    from mmpretrain.registry import TRANSFORMS
    np.random.seed(0)
    steps = [TRANSFORMS.build(t) for t in
             cfg.train_dataloader.dataset.pipeline[1:]]
    for _ in range(times):
        out = dict(img=img.copy(), img_shape=img.shape[:2],
                   ori_shape=img.shape[:2], gt_label=1)
        for step in steps:
            out = step(out)
    return out['inputs']


@pytest.mark.parametrize('dtype, channels', [('uint16', 4), ('float32', 4),
                                             ('uint16', 1)])
def test_imagenet_recipe_trains_on_c_bands_of_any_depth(dtype, channels):
    """The fine-tune recipe's RandAugment and RandomErasing on 16-bit and
    float bands: the 8-bit-only operations leave, the erasing and the
    padding fill with the images' means, and a pipeline run keeps the
    dtype and the full 16-bit range."""
    import numpy as np
    cfg = Config.fromfile(CONFIGS['cls'])
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        changes = set_image_channels(cfg, channels, [300.] * channels,
                                     [20.] * channels, dtype)
        assert channel_problems(cfg) == []
    for name in ('Invert', 'Posterize', 'Solarize', 'SolarizeAdd',
                 'Brightness', 'Sharpness'):
        assert any(c.startswith(f'train_dataloader: {name} removed (') and
                   c.endswith(f'; the images are {dtype})') for c in changes)
    pipeline = cfg.train_dataloader.dataset.pipeline
    rand, erasing = pipeline[3], pipeline[4]
    kept = {p['type'] for p in rand['policies']}
    assert kept == {'Rotate', 'Shear', 'Translate'}  # the geometric ones
    assert rand['hparams']['pad_val'] == (
        [300] * channels if dtype == 'uint16' else [300.] * channels)
    assert erasing['type'] == 'AnyChannelRandomErasing'
    assert (erasing['fill_color'], erasing['fill_std']) == (
        [300.] * channels, [20.] * channels)
    rng = np.random.default_rng(0)
    img = (rng.integers(256, 65535, (64, 80, channels)).astype(np.uint16)
           if dtype == 'uint16' else
           rng.random((64, 80, channels)).astype(np.float32) * 1000)
    out = _run_train_pipeline(cfg, img)
    assert tuple(out.shape) == (channels, 224, 224)
    assert str(out.dtype) == f'torch.{dtype}'
    assert float(out.float().max()) > 300  # not clipped to 8 bits


def test_the_8_bit_operations_stay_for_8_bit_bands():
    cfg = Config.fromfile(CONFIGS['cls'])
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        changes = set_image_channels(cfg, 4, [100.] * 4, [20.] * 4, 'uint8')
        assert channel_problems(cfg) == []
    assert not any('Posterize' in c for c in changes)
    policies = cfg.train_dataloader.dataset.pipeline[3]['policies']
    assert {'Posterize', 'Solarize', 'Invert', 'Brightness'} <= {
        p['type'] for p in policies}
    assert cfg.train_dataloader.dataset.pipeline[4]['type'] == \
        'AnyChannelRandomErasing'


def test_image_stats_carry_the_dtype(tmp_path):
    path = tmp_path / 'stats.json'
    path.write_text(json.dumps(dict(channels=1, dtype='uint16', mean=[3.],
                                    std=[2.])))
    assert read_image_stats(str(path))['dtype'] == 'uint16'
    path.write_text(json.dumps(dict(channels=1, mean=[3.], std=[2.])))
    assert read_image_stats(str(path))['dtype'] is None
