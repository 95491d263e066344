"""3-channel weights of every layout start a C-channel stem by a logged
rule, checked value for value; C-channel weights load into C-channel models
as they are, and into a model of another C not at all."""
from collections import OrderedDict
from logging.handlers import BufferingHandler

import pytest
import torch
from helpers.checkpoints import (TINY, export_fcmae_raw, export_hf,
                                 export_official, export_timm,
                                 random_backbone_state, randomize_)
from mmengine.logging import MMLogger
from mmpretrain.registry import MODELS

from mmconvnextv2.checkpoint import CheckpointMismatchError
from mmconvnextv2.checkpoint.channels import (STEM_KEY, adapt_stem_weight,
                                              parse_stem_rule)
from mmconvnextv2.models import ConvNeXtV2

RGB_RULE = dict(type='rgb', bands=[3, 1, 0])


@pytest.fixture(scope='module')
def rgb_state():
    return random_backbone_state(TINY, seed=3)


@pytest.fixture
def log():
    """The messages MMLogger (which does not propagate to root) logs."""
    handler = BufferingHandler(capacity=10_000)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield lambda: [record.getMessage() for record in handler.buffer]
    logger.removeHandler(handler)


def backbone(channels: int, checkpoint=None, **init) -> ConvNeXtV2:
    init_cfg = None if checkpoint is None else dict(
        type='Pretrained', checkpoint=str(checkpoint), **init)
    model = ConvNeXtV2(arch=TINY, in_channels=channels, init_cfg=init_cfg)
    model.init_weights()
    return model


def test_mean_rule_value_for_value():
    weight = torch.randn(8, 3, 4, 4, dtype=torch.float64)
    out = adapt_stem_weight(weight, 4)
    assert out.shape == (8, 4, 4, 4) and out.dtype == torch.float64
    each = (weight[:, 0] + weight[:, 1] + weight[:, 2]) / 3 * (3 / 4)
    for c in range(4):
        assert torch.allclose(out[:, c], each, atol=1e-12)
    one = adapt_stem_weight(weight, 1)
    assert torch.allclose(one[:, 0], weight.sum(1), atol=1e-12)
    # a flat image gets the stem response of a flat RGB image
    flat_rgb = torch.ones(1, 3, 4, 4, dtype=torch.float64)
    flat_c = torch.ones(1, 4, 4, 4, dtype=torch.float64)
    assert torch.allclose(torch.conv2d(flat_rgb, weight),
                          torch.conv2d(flat_c, out))


def test_rgb_rule_value_for_value():
    weight = torch.randn(8, 3, 4, 4).half()
    out = adapt_stem_weight(weight, 5, RGB_RULE)
    assert out.dtype == torch.float16
    assert torch.equal(out[:, 3], weight[:, 0])  # R
    assert torch.equal(out[:, 1], weight[:, 1])  # G
    assert torch.equal(out[:, 0], weight[:, 2])  # B
    mean = weight.float().mean(1).half()
    assert torch.equal(out[:, 2], mean) and torch.equal(out[:, 4], mean)


@pytest.mark.parametrize('channels', [1, 2, 4, 5, 16])
def test_timm_rule_is_timms(channels):
    timm = pytest.importorskip('timm')
    weight = torch.randn(8, 3, 4, 4)
    expected = timm.models.adapt_input_conv(channels, weight.clone())
    assert torch.equal(adapt_stem_weight(weight, channels, 'timm'), expected)


def test_bad_rules_one_line():
    for rule, match in (('median', "stem_rule must be 'mean', 'timm'"),
                        (dict(type='rgb', bands=[0, 0, 1]), 'three distinct'),
                        (dict(type='rgb', bands=[0, 1]), 'three distinct')):
        with pytest.raises(ValueError, match=match) as info:
            parse_stem_rule(rule)
        assert '\n' not in str(info.value)
    with pytest.raises(ValueError, match=r"bands \[3, 1, 0\] do not fit a "
                       r'model of 2 channel\(s\)'):
        adapt_stem_weight(torch.randn(8, 3, 4, 4), 2, RGB_RULE)


def layout_file(tmp_path, layout: str, state) -> str:
    head = OrderedDict(weight=torch.randn(5, 64), bias=torch.randn(5))
    path = str(tmp_path / f'{layout}.pth')
    if layout == 'official':
        torch.save({'model': export_official(state, head)}, path)
    elif layout == 'timm':
        torch.save(export_timm(state, head), path)
    elif layout == 'huggingface':
        torch.save(export_hf(state, head), path)
    elif layout == 'mmpretrain':
        full = OrderedDict(('backbone.' + k, v) for k, v in state.items())
        full.update({'head.fc.' + k: v for k, v in head.items()})
        torch.save({'state_dict': full, 'meta': {}}, path)
    else:  # ours: a bare backbone
        torch.save({'state_dict': state}, path)
    return path


@pytest.mark.parametrize('layout, rule', [
    ('official', 'mean'), ('timm', 'mean'), ('huggingface', 'mean'),
    ('mmpretrain', 'mean'), ('ours', 'mean'), ('timm', RGB_RULE),
    ('huggingface', 'timm')])
def test_every_layout_starts_a_c_channel_stem(tmp_path, rgb_state, layout,
                                              rule, load_spy, log):
    path = layout_file(tmp_path, layout, rgb_state)
    model = backbone(4, path, stem_rule=rule)
    assert load_spy.missing == [] and load_spy.unexpected == []
    own = model.state_dict()
    assert torch.equal(own[STEM_KEY],
                       adapt_stem_weight(rgb_state[STEM_KEY], 4, rule))
    for key, value in rgb_state.items():
        if key != STEM_KEY:
            assert torch.equal(own[key], value), key
    name = rule if isinstance(rule, str) else 'rgb'  # the rule named
    adapted = [m for m in log() if 'stem adapted' in m]
    assert len(adapted) == 1 and adapted[0].startswith(
        f"checkpoint {path}: its 3-channel stem adapted to the model's 4 "
        f"channel(s) by rule '{name}' (")
    assert model(torch.randn(1, 4, 64, 64))[0].shape == (1, 64)


def test_c_channel_weights_load_as_they_are(tmp_path, log):
    state = OrderedDict(backbone(4).state_dict())
    randomize_(state.items(), seed=4)
    path = tmp_path / 'four.pth'
    torch.save({'state_dict': state}, path)
    model = backbone(4, path, stem_rule=RGB_RULE)
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value), key
    assert not any('stem adapted' in m for m in log())
    for channels in (1, 3):
        with pytest.raises(CheckpointMismatchError) as info:
            backbone(channels, path)
        assert str(info.value) == (
            f'checkpoint {path} holds a stem of 4 input channels, but the '
            f'model takes {channels}: only 3-channel (RGB) weights are '
            'adapted to another channel count')
    with pytest.raises(ValueError, match="stem_rule must be"):
        backbone(4, path, stem_rule='median')  # wrong even when not needed


def fcmae(channels: int, checkpoint=None):
    model = MODELS.build(dict(
        type='FCMAE',
        backbone=dict(type='ConvNeXtV2', arch=TINY, in_channels=channels,
                      gap_before_final_norm=False, norm_outputs=False),
        neck=dict(type='FCMAEDecoder', embed_dims=16),
        head=dict(type='MAEPretrainHead',
                  loss=dict(type='PixelReconstructionLoss', criterion='L2')),
        init_cfg=None if checkpoint is None else dict(
            type='Pretrained', checkpoint=str(checkpoint))))
    model.init_weights()
    return model


def test_fcmae_checkpoints_across_channels(tmp_path, log):
    four = fcmae(4)
    randomize_(four.state_dict().items(), seed=5)
    path = tmp_path / 'fcmae4.pth'
    torch.save({'state_dict': four.state_dict()}, path)
    loaded = fcmae(4, path)  # as it is, decoder included
    assert loaded.neck.pred.out_channels == 32 * 32 * 4
    for key, value in four.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    # and into a 4-channel detector / segmentor backbone
    down = backbone(4, path)
    assert torch.equal(down.state_dict()[STEM_KEY],
                       four.state_dict()['backbone.' + STEM_KEY])
    with pytest.raises(CheckpointMismatchError, match='stem of 4 input '
                       'channels, but the model takes 1'):
        fcmae(1, path)
    # an official raw 3-channel FCMAE file starts a 4-channel FCMAE
    rgb = fcmae(3)
    randomize_(rgb.state_dict().items(), seed=6)
    bare = {k[9:]: v for k, v in rgb.state_dict().items()
            if k.startswith('backbone.')}
    neck = {k[5:]: v for k, v in rgb.state_dict().items()
            if k.startswith('neck.')}
    raw = tmp_path / 'checkpoint-799.pth'
    torch.save({'model': export_fcmae_raw(bare, neck)}, raw)
    started = fcmae(4, raw)
    assert torch.equal(started.backbone.downsample_layers[0][0].weight,
                       adapt_stem_weight(bare[STEM_KEY], 4))
    assert torch.equal(started.neck.proj.weight, rgb.neck.proj.weight)
    assert not torch.equal(started.neck.pred.weight[:3072],
                           rgb.neck.pred.weight)
    assert any('prediction layer (neck.pred.*) starts from random init' in m
               for m in log())
