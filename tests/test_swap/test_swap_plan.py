"""mmconvnextv2.swap.plan: the stage layout and every field the swap
changes in stock mmdet / mmseg configs of every kind of model."""
import pytest
import torch
from mmengine.config import Config

from mmconvnextv2.models import ConvNeXtV2
from mmconvnextv2.swap import (Edits, FeatureMap, SwapError, assign_stages,
                               layer_decay_settings, swap_config)
from mmconvnextv2.swap.plan import closing_notes
from helpers.swap import CASES, RETINANET, swap, value_at


@pytest.mark.parametrize('kind', [
    pytest.param(kind, marks=pytest.mark.slow) if kind == 'vit-levels' else kind
    for kind in CASES])  # probing ViT-L on CPU takes ~10 s
def test_swap_fields(kind, swapped_atto):
    name, expected, out_indices = CASES[kind]
    out, result = swapped_atto(kind)
    assert result.out_indices == out_indices
    cfg = Config.fromfile(out)
    backbone = cfg.model.backbone
    assert backbone.type == 'mmpretrain.ConvNeXtV2'
    assert backbone.arch == 'atto' and backbone.gap_before_final_norm is False
    assert tuple(backbone.out_indices) == out_indices
    assert 'depth' not in backbone and 'norm_eval' not in backbone  # deleted
    for field, value in expected.items():
        assert value_at(cfg, field) == value, field
    changed = {c.name for c in result.changes}
    assert {f for f in expected if f.endswith('channels')} | {
        'model.backbone'} <= changed
    assert cfg.custom_imports.imports == ['mmconvnextv2']
    # mmdet / mmseg layer decay for ConvNeXt; AdamW
    wrapper = cfg.optim_wrapper
    assert wrapper.constructor == 'LearningRateDecayOptimizerConstructor'
    assert wrapper.optimizer.type == 'AdamW'
    assert 'momentum' not in wrapper.optimizer  # the SGD dict is replaced
    assert wrapper.paramwise_cfg.decay_type == (
        'layer_wise' if name.startswith('mmdet') else 'stage_wise')
    # the checkpoints' normalisation (caffe-style BGR configs change)
    preprocessor = cfg.model.data_preprocessor
    assert preprocessor.bgr_to_rgb is True
    assert list(preprocessor.std) == [58.395, 57.12, 57.375]


def test_options_custom_arch_checkpoint_lr_decay(tmp_path):
    channels = [8, 16, 32, 64]
    out, result = swap(RETINANET, str(tmp_path),
                       arch=dict(depths=[1, 1, 2, 1], channels=channels),
                       checkpoint='https://example.com/fcmae.pt', lr_decay=0.8)
    cfg = Config.fromfile(out)
    assert dict(cfg.model.backbone.arch) == dict(depths=[1, 1, 2, 1],
                                                 channels=channels)
    assert list(cfg.model.neck.in_channels) == channels[1:]
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='https://example.com/fcmae.pt')
    assert cfg.optim_wrapper.paramwise_cfg.decay_rate == 0.8
    assert cfg.optim_wrapper.paramwise_cfg.num_layers == 6
    # the optimizer is recorded last; no random-weights note with weights
    assert result.changes[-1].name == 'optim_wrapper'
    assert not any('random' in note for note in result.notes)


def test_no_model_is_refused():
    cfg = Config(dict(default_scope='mmdet', optim_wrapper=dict()))
    with pytest.raises(SwapError, match=r'^cfg\.py defines no `model`$'):
        swap_config(cfg, 'cfg.py')


@pytest.mark.parametrize('strides, widths, stages', [
    ([4, 8, 16, 32], [1, 2, 3, 4], [0, 1, 2, 3]),
    ([8, 16, 32], [1, 2, 3], [1, 2, 3]),
    ([32], [1], [3]),
    ([4, 8, 8, 8], [1, 2, 3, 4], [0, 1, 2, 3]),     # dilated: next free stage
    ([16, 16, 16, 16], [1, 2, 3, 4], [0, 1, 2, 3]),  # single-scale: pulled down
    ([2, 1], [2, 1], [0, 1]),                        # a decoder's outputs (UNet)
    ([16, 16, 16, 16], [7, 7, 7, 7], [2, 2, 2, 2]),  # a ViT's levels: one kind
    ([4, 4], [5, 5], [0, 0]),                        # stacked hourglasses
    ([8, 4, 8, 16, 32], [5, 1, 2, 3, 4], [1, 0, 1, 2, 3]),  # 5 kinds, 4 stages
])
def test_assign_stages(strides, widths, stages):
    maps = [FeatureMap(w, s) for s, w in zip(strides, widths)]
    assert assign_stages(maps, 4) == stages


def test_repeated_stage_is_returned_twice():
    """out_indices may name a stage twice (two heads reading one stride);
    the outputs stay in stage order."""
    model = ConvNeXtV2(arch='atto', out_indices=(1, 0, 1),
                       gap_before_final_norm=False)
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [40, 80, 80]
    assert torch.equal(outs[1], outs[2])


def test_edits_record_each_change_once():
    model = dict(type='M', neck=dict(in_channels=[1, 2]),
                 heads=[dict(in_channels=2), dict(in_channels=3)])
    edits = Edits(model)
    edits.set(('model', 'neck', 'in_channels'), [1, 2])  # unchanged: no record
    edits.set(('model', 'neck', 'in_channels'), [4, 8])
    edits.set(('model', 'heads', 1, 'in_channels'), 8)
    edits.set(('model', 'pretrained'), None)  # a new key is a change
    assert [c.name for c in edits.changes] == [
        'model.neck.in_channels', 'model.heads[1].in_channels',
        'model.pretrained']
    assert model['neck']['in_channels'] == [1, 2]  # the original is kept
    # a list is overridden whole (mmengine merges dicts, not list items)
    assert edits.model_overrides() == dict(
        neck=dict(in_channels=[4, 8]),
        heads=[dict(in_channels=2), dict(in_channels=8)], pretrained=None)


def test_layer_decay_settings():
    assert layer_decay_settings('mmdet', [2, 2, 6, 2], None) == dict(
        decay_rate=0.95, decay_type='layer_wise', num_layers=6)
    assert layer_decay_settings('mmdet', [3, 3, 27, 3], 0.9)['num_layers'] == 12
    assert layer_decay_settings('mmseg', [3, 3, 27, 3], None) == dict(
        decay_rate=0.9, decay_type='stage_wise', num_layers=6)
    assert layer_decay_settings('mmseg', [2, 2, 2], None) is None
    assert layer_decay_settings('mmpretrain', [2, 2, 6, 2], None) is None


def test_closing_notes():
    maps = [FeatureMap(8, 4), FeatureMap(16, 8)]
    assert closing_notes('w.pt', maps, [0, 1]) == []
    notes = closing_notes(None, maps, [1])
    assert notes[0].startswith('no checkpoint given')
    assert notes[1] == ('backbone outputs [0] of the original are read by '
                        'nothing and are dropped')
