"""A config whose model takes C != 3 channels: RGB-only photometric
transforms, 8-bit colour loading and an RGB data preprocessor are refused,
one line each; geometric transforms pass."""
import pytest
from mmengine.config import Config

from mmconvnextv2.datasets.channel_checks import (ChannelConfigError,
                                                  channel_problems,
                                                  check_channels,
                                                  model_channels)

LOAD = dict(type='LoadAnyImageFromFile')
GEOMETRIC = [dict(type='RandomResizedCrop', scale=64),
             dict(type='RandomFlip', prob=0.5),
             dict(type='mmdet.RandomAffine'), dict(type='Rotate', angle=10),
             dict(type='GaussianBlur', magnitude_range=(0.1, 2.0)),
             dict(type='ColorJitter', brightness=0.4)]


def config(channels: int, pipeline: list, scope: str = 'mmpretrain',
           **preprocessor) -> Config:
    return Config(dict(
        default_scope=scope,
        model=dict(type='ImageClassifier',
                   backbone=dict(type='ConvNeXtV2', in_channels=channels)),
        data_preprocessor=dict(type='ClsDataPreprocessor', **preprocessor),
        train_dataloader=dict(dataset=dict(type='CustomDataset',
                                           pipeline=pipeline))))


def only_problem(cfg: Config) -> str:
    problems = channel_problems(cfg)
    assert len(problems) == 1, problems
    assert '\n' not in problems[0]
    with pytest.raises(ChannelConfigError) as info:
        check_channels(cfg)
    assert str(info.value) == problems[0]
    return problems[0]


def test_geometric_transforms_pass():
    cfg = config(4, [LOAD] + GEOMETRIC + [dict(type='PackInputs')],
                 mean=[0.] * 4, std=[1.] * 4)
    assert model_channels(cfg) == 4
    assert channel_problems(cfg) == []
    check_channels(cfg)


@pytest.mark.parametrize('transform, scope, named', [
    (dict(type='mmdet.PhotoMetricDistortion'), 'mmdet',
     'PhotoMetricDistortion'),
    (dict(type='PhotoMetricDistortion'), 'mmseg', 'PhotoMetricDistortion'),
    (dict(type='ColorJitter', brightness=0.4, saturation=0.4), 'mmpretrain',
     'ColorJitter (saturation)'),
    (dict(type='Lighting', eigval=[1, 1, 1], eigvec=[[1] * 3] * 3),
     'mmpretrain', 'Lighting'),
    (dict(type='RandomGrayscale', prob=0.2), 'mmpretrain', 'RandomGrayscale'),
])
def test_rgb_only_photometric_refused(transform, scope, named):
    cfg = config(4, [LOAD, transform], scope, mean=[0.] * 4, std=[1.] * 4)
    problem = only_problem(cfg)
    assert problem.startswith(f'train_dataloader: {named} is defined for '
                              'RGB images only (')
    assert problem.endswith('but the model takes 4 channel(s)')
    # the same config for an RGB model is the stock one: not checked
    cfg.model.backbone.in_channels = 3
    assert channel_problems(cfg) == []


def test_colour_ops_inside_preset_rand_augment():
    cfg = config(1, [LOAD, dict(type='RandAugment',
                                policies='timm_increasing', num_policies=2,
                                magnitude_level=9)],
                 mean=[0.], std=[1.])
    problems = channel_problems(cfg)
    named = {p.split(': ')[1].split(' is defined')[0] for p in problems}
    assert named == {'AutoContrast', 'Equalize', 'ColorTransform', 'Contrast'}
    assert all(p.startswith('train_dataloader, in RandAugment: ')
               for p in problems)


@pytest.mark.parametrize('transform, expected', [
    (dict(type='LoadImageFromFile'),
     'LoadImageFromFile decodes to 8-bit colour (3 channels), but the model '
     'takes 4 channel(s): load with LoadAnyImageFromFile'),
    (dict(type='LoadAnyImageFromFile', to_rgb8=True),
     'LoadAnyImageFromFile(to_rgb8=True) gives 3 channels, but the model '
     'takes 4'),
    (dict(type='LoadAnyImageFromFile', channels=[0, 1]),
     'LoadAnyImageFromFile selects 2 channel(s) [0, 1], but the model takes '
     '4'),
    (dict(type='RandomResizedCrop', scale=64, backend='pillow'),
     "RandomResizedCrop(backend='pillow'): Pillow handles 8-bit grey and RGB "
     "images only, but the model takes 4 channel(s): set backend='cv2'"),
    (dict(type='Normalize', mean=[0] * 4, std=[1] * 4),
     'Normalize swaps channels 0 and 2 of RGB images (to_rgb=True), but the '
     'model takes 4 channel(s): set to_rgb=False'),
    (dict(type='Normalize', mean=[0] * 3, std=[1] * 3, to_rgb=False),
     'Normalize has 3 mean value(s), but the model takes 4 channel(s)'),
])
def test_loading_and_pipeline_normalisation(transform, expected):
    pipeline = [transform] if 'Load' in transform['type'] else [LOAD,
                                                                transform]
    cfg = config(4, pipeline, mean=[0.] * 4, std=[1.] * 4)
    assert only_problem(cfg) == f'train_dataloader: {expected}'


def test_grey_stock_loading_passes_for_one_channel():
    cfg = config(1, [dict(type='LoadImageFromFile', color_type='grayscale')],
                 mean=[0.], std=[1.])
    assert channel_problems(cfg) == []


def test_area_resize_refused_beyond_four_channels():
    cfg = config(5, [LOAD, dict(type='Resize', scale=(32, 32),
                                interpolation='area')],
                 mean=[0.] * 5, std=[1.] * 5)
    assert only_problem(cfg) == (
        "train_dataloader: Resize(interpolation='area'): OpenCV's area resize "
        'takes at most 4 channels, but the model takes 5')


def test_data_preprocessor_mean_std_and_channel_swap():
    cfg = config(4, [LOAD], mean=[0.] * 3, std=[1.] * 4)
    assert only_problem(cfg) == ('data_preprocessor.mean has 3 value(s), but '
                                 'the model takes 4 channel(s)')
    cfg = config(1, [LOAD], mean=[0.], std=[1.], to_rgb=True)
    assert only_problem(cfg) == (
        'data_preprocessor.to_rgb=True swaps channels 0 and 2 of RGB images, '
        'but the model takes 1 channel(s): set it False')
    # the model's own data preprocessor is the one the runner builds
    cfg.model.data_preprocessor = dict(type='ClsDataPreprocessor',
                                       bgr_to_rgb=True)
    assert only_problem(cfg).startswith('model.data_preprocessor.bgr_to_rgb')


def test_mmengine_img_preprocessors_normalise_three_channels_at_most():
    cfg = config(4, [LOAD])
    cfg.model.type = 'mmpretrain.FCMAE'
    cfg.data_preprocessor = dict(type='SelfSupDataPreprocessor',
                                 mean=[0.] * 4, std=[1.] * 4)
    assert only_problem(cfg) == (
        'data_preprocessor SelfSupDataPreprocessor normalises 1 or 3 channels '
        "only (mmengine ImgDataPreprocessor), the model takes 4: type="
        "'AnyChannelSelfSupDataPreprocessor' (the same class, 4 values)")
    # ours takes the 4 values
    cfg.data_preprocessor.type = 'AnyChannelSelfSupDataPreprocessor'
    assert channel_problems(cfg) == []
    cfg.data_preprocessor = dict(type='SelfSupDataPreprocessor')
    cfg.train_dataloader.dataset.pipeline = [
        LOAD, dict(type='Normalize', mean=[0] * 4, std=[1] * 4, to_rgb=False)]
    assert channel_problems(cfg) == []


@pytest.mark.parametrize('channels', [2, 4, 16])
def test_mmdet_preprocessor_refused_and_replacement_passes(channels):
    cfg = config(channels, [LOAD], scope='mmdet')
    cfg.model = dict(type='MaskRCNN', backbone=dict(
        type='mmpretrain.ConvNeXtV2', in_channels=channels),
        data_preprocessor=dict(type='DetDataPreprocessor',
                               mean=[0.] * channels, std=[1.] * channels))
    assert only_problem(cfg).endswith(
        f"the model takes {channels}: type='AnyChannelDetDataPreprocessor' "
        f'(the same class, {channels} values)')
    cfg.model.data_preprocessor.type = 'AnyChannelDetDataPreprocessor'
    assert channel_problems(cfg) == []


@pytest.mark.parametrize('transform, expected', [
    (dict(type='RandomErasing', erase_prob=0.25),
     'RandomErasing fills three 8-bit channels, but the model takes 4 '
     'channel(s): use AnyChannelRandomErasing'),
    (dict(type='RandAugment', policies=[dict(type='Rotate',
                                             magnitude_range=(0, 30))],
          num_policies=1, magnitude_level=9,
          hparams=dict(pad_val=[104, 116, 124])),
     'RandAugment pads with hparams.pad_val=[104, 116, 124], but the model '
     'takes 4 channel(s): give one value per channel'),
    (dict(type='mmdet.Pad', size=(64, 64), pad_val=dict(img=(114,) * 3)),
     "Pad pads with pad_val={'img': (114, 114, 114)}, but the model takes 4 "
     'channel(s): give one value per channel'),
])
def test_three_value_fills_refused(transform, expected):
    cfg = config(4, [LOAD, transform], mean=[0.] * 4, std=[1.] * 4)
    assert only_problem(cfg) == f'train_dataloader: {expected}'
    cfg.train_dataloader.dataset.pipeline[1] = dict(
        type='AnyChannelRandomErasing', fill_color=[0.] * 4) if \
        transform['type'] == 'RandomErasing' else dict(
            transform, pad_val=[0] * 4, hparams=dict(pad_val=[0] * 4))
    assert channel_problems(cfg) == []
