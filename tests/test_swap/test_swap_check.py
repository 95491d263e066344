"""mmconvnextv2.swap.check: the swapped model of each kind builds on CPU and
trains one step, every kept stage learning."""
import math

import pytest
import torch
from mmengine.config import Config

from mmconvnextv2.models import ConvNeXtV2
from mmconvnextv2.swap import check_config, model_num_classes
from helpers.swap import CASES, RETINANET, swap

SLOW = ('two-stage', 'instance', 'vit-levels')  # over ~7 s here


@pytest.mark.parametrize('kind', [
    pytest.param(kind, marks=pytest.mark.slow) if kind in SLOW else kind
    for kind in CASES])
def test_swapped_model_trains_a_step(kind, swapped_atto):
    _, _, out_indices = CASES[kind]
    out, _ = swapped_atto(kind)
    report = check_config(out, (128, 128))
    model = report['model']
    assert isinstance(model.backbone, ConvNeXtV2)
    assert report['trained'] == 'model' and report['init'] == 'random'
    assert report['params'] == sum(p.numel() for p in model.parameters())
    assert report['losses'] and all(
        math.isfinite(v) for v in report['losses'].values())
    # every stage that is kept feeds the loss, so every output norm learns
    for i in out_indices:
        grad = getattr(model.backbone, f'norm{i}').weight.grad
        assert grad is not None and torch.isfinite(grad).all()
    assert model.backbone.stages[0][0].grn.gamma.grad.abs().sum() > 0


def test_check_options_url_not_fetched_layer_decay(tmp_path):
    out, _ = swap(RETINANET, str(tmp_path),
                  arch=dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64]),
                  checkpoint='https://example.com/fcmae.pt', lr_decay=0.8)
    report = check_config(out, (96, 96))  # the URL is not fetched
    assert report['init'] == 'random (URL not fetched)'
    # the mmdet layer-decay constructor accepts the swapped model
    from mmdet.engine.optimizers import LearningRateDecayOptimizerConstructor
    wrapper = Config.fromfile(out).optim_wrapper
    groups = LearningRateDecayOptimizerConstructor(
        dict(type='OptimWrapper', optimizer=wrapper.optimizer),
        wrapper.paramwise_cfg)(report['model']).optimizer.param_groups
    by_name = {n: g for g in groups for n in g['param_names']}
    assert by_name['backbone.stages.0.0.grn.gamma']['weight_decay'] == 0
    assert by_name['backbone.stages.0.0.pointwise_conv1.weight'][
        'weight_decay'] == 0.05
    assert by_name['backbone.stages.0.0.pointwise_conv1.weight']['lr'] < \
        by_name['backbone.stages.3.0.pointwise_conv1.weight']['lr']


def test_check_loads_a_local_checkpoint(tmp_path):
    arch = dict(depths=[1, 1, 1, 1], channels=[8, 16, 32, 64])
    weights = ConvNeXtV2(arch=arch, out_indices=(1, 2, 3),
                         gap_before_final_norm=False)
    torch.nn.init.constant_(weights.stages[0][0].grn.gamma, 0.25)
    path = str(tmp_path / 'backbone.pth')
    torch.save(dict(state_dict=weights.state_dict()), path)
    out, _ = swap(RETINANET, str(tmp_path), arch=arch, checkpoint=path)
    report = check_config(out, (64, 64))
    assert report['init'] == f'loaded {path}'
    gamma = report['model'].backbone.stages[0][0].grn.gamma
    assert torch.all(gamma == 0.25)


def test_model_num_classes():
    model = dict(head=dict(num_classes=80),
                 panoptic=[dict(num_things_classes=8, num_stuff_classes=3)],
                 ignored=dict(num_classes=0))
    assert model_num_classes(model) == 3
    assert model_num_classes(dict(type='M')) == 2
