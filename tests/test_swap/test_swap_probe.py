"""mmconvnextv2.swap.probe: where the original backbone sits, and its
outputs measured by running it."""
import pytest

from mmconvnextv2.swap import (FeatureMap, SwapError, find_backbone,
                               nested_backbone, parse_arch, probe_backbone)
from mmconvnextv2.swap.probe import original_backbone
from helpers.swap import swap

RESNET18 = dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3),
                norm_cfg=dict(type='SyncBN'),
                init_cfg=dict(type='Pretrained', checkpoint='torchvision://x'))


def test_probe_measures_widths_and_strides():
    """SyncBN and Pretrained weights are dropped: it builds on CPU offline."""
    maps = probe_backbone(RESNET18, 'mmdet', ('model', 'backbone'), size=64)
    assert maps == [FeatureMap(64, 4), FeatureMap(128, 8), FeatureMap(256, 16),
                    FeatureMap(512, 32)]
    assert RESNET18['norm_cfg']['type'] == 'SyncBN'  # the config is not changed


def test_probe_failure_is_one_line():
    with pytest.raises(SwapError) as info:
        probe_backbone(dict(type='NoSuchBackbone'), 'mmdet',
                       ('model', 'backbone'))
    message = str(info.value)
    assert message.startswith('model.backbone (NoSuchBackbone) could not be '
                              'run to measure its outputs: KeyError: ')
    assert '\n' not in message


def test_find_backbone_breadth_first():
    tracker = dict(type='T', detector=dict(type='D', backbone=dict(type='R')),
                   train_cfg=dict(backbone=dict(type='never')))
    assert find_backbone(tracker) == ('model', 'detector')
    with pytest.raises(SwapError, match=r'^model \(X\) has no `backbone` to '
                       'replace: not a backbone-neck-head model$'):
        find_backbone(dict(type='X', head=dict(type='H')))


def test_nested_backbone_and_its_refusal(tmp_path):
    wrapper = dict(type='W', backbone_cfg=dict(type='R'),
                   init_cfg=dict(backbone='ignored'))
    assert nested_backbone(wrapper, ('model', 'backbone')) == (
        'model', 'backbone', 'backbone_cfg')
    assert nested_backbone([dict(a=1), dict(b=wrapper)], ('x', )) == (
        'x', 1, 'b', 'backbone_cfg')
    assert nested_backbone(dict(type='R', depth=50), ('b', )) is None
    with pytest.raises(SwapError, match=r'^model\.backbone\.backbone_cfg: W '
                       'wraps a backbone of its own'):
        original_backbone(dict(type='M', backbone=wrapper))


def test_refusal_of_a_backbone_inside_the_backbone(tmp_path):
    with pytest.raises(SwapError, match=r'^model\.backbone\.backbone_cfg: '
                       'BiSeNetV1 wraps a backbone of its own'):
        swap('mmseg::bisenetv1/bisenetv1_r18-d32_4xb4-160k_cityscapes-1024x1024.py',
             str(tmp_path))
    assert not (tmp_path / 'swapped.py').exists()


def test_parse_arch():
    assert parse_arch('atto') == ('atto', [2, 2, 6, 2], [40, 80, 160, 320])
    custom = dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])
    assert parse_arch(custom) == (custom, custom['depths'], custom['channels'])
