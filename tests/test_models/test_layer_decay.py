"""mmpretrain's LearningRateDecayOptimWrapperConstructor on a ConvNeXtV2
classifier: lr scales follow the official 'group' / 'single' layer ids, and
norms, GRN gamma/beta and biases get no weight decay.

'group' is the official rule (12 groups; base and large, the sizes that use it,
have 27 blocks in the third stage); for a third stage of at most 9 blocks it
is mmpretrain's ConvNeXt variant with 6 groups."""
import pytest
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

ATTO = dict(depths=[2, 2, 6, 2], channels=[40, 80, 160, 320])
# base's depths at a small width: the 12-group case, cheaply
BASE_DEPTHS = dict(depths=[3, 3, 27, 3], channels=[8, 16, 32, 64])


def official_group_id(name: str, depths: list) -> int:
    """The official 'group' rule (optim_factory.get_num_layer_for_convnext)
    with ``top`` = 12, or 6 for a third stage of at most 9 blocks."""
    top = 12 if depths[2] > 9 else 6
    parts = name.split('.')
    if parts[1] == 'downsample_layers':
        stage = int(parts[2])
        return {0: 0, 1: 2, 2: 3, 3: top}[stage]
    if parts[1] == 'stages':
        stage, block = int(parts[2]), int(parts[3])
        return {0: 1, 1: 2, 3: top}.get(stage, 3 + block // 3)
    return top + 1


def official_single_id(name: str, depths: list) -> int:
    """The official 'single' rule (get_num_layer_for_convnext_single)."""
    parts = name.split('.')
    if parts[1] == 'downsample_layers':
        return sum(depths[:int(parts[2])]) + 1
    if parts[1] == 'stages':
        return sum(depths[:int(parts[2])]) + int(parts[3]) + 1
    return sum(depths) + 1


@pytest.mark.parametrize('kind,rule,arch,num_ids', [
    ('group', official_group_id, ATTO, 8),
    ('group', official_group_id, BASE_DEPTHS, 14),
    ('single', official_single_id, ATTO, 14),
    ('single', official_single_id, BASE_DEPTHS, 38),
])
def test_layer_decay_groups(kind, rule, arch, num_ids):
    init_default_scope('mmpretrain')
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='ConvNeXtV2', arch=arch, layer_decay_type=kind),
        head=dict(type='LinearClsHead', num_classes=10,
                  in_channels=arch['channels'][-1])))
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='LearningRateDecayOptimWrapperConstructor',
        optim_wrapper_cfg=dict(optimizer=dict(type='AdamW', lr=1.0,
                                              weight_decay=0.05)),
        paramwise_cfg=dict(layer_decay_rate=0.5, flat_decay_mult=0.0)))
    groups = constructor(model).optimizer.param_groups
    by_name = {g['param_name']: g for g in groups}
    assert set(by_name) == {n for n, _ in model.named_parameters()}
    for name, group in by_name.items():
        layer_id = rule(name, arch['depths'])
        assert group['layer_id'] == layer_id, name
        assert group['lr'] == pytest.approx(0.5**(num_ids - layer_id - 1)), name
        flat = group['params'][0].dim() == 1
        assert group['weight_decay'] == (0.0 if flat else 0.05), name
    # what the recipe relies on: GRN and every norm are never decayed
    for name, group in by_name.items():
        if '.grn.' in name or 'norm' in name:
            assert group['weight_decay'] == 0.0, name
    assert by_name['head.fc.weight']['lr'] == pytest.approx(1.0)


def test_atto_config_param_groups():
    """The shipped atto recipe through mmengine's builder: lr 2e-4 * 1024 / 256
    at the head, 0.9 per layer id below it, wd 0.3 on weights, 0 on the rest."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(
        root, 'configs', 'convnext_v2',
        'convnext-v2-atto_fcmae-pre_32xb32-amp-600e_in1k.py'))
    cfg.model.backbone.init_cfg = None
    cfg.optim_wrapper.type = 'OptimWrapper'  # AMP needs a GPU
    cfg.optim_wrapper.pop('loss_scale')
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    groups = build_optim_wrapper(model, cfg.optim_wrapper).optimizer.param_groups
    by_name = {g['param_name']: g for g in groups}
    lr = 2e-4 * 1024 / 256
    depths = ATTO['depths']
    for name, group in by_name.items():
        layer_id = official_single_id(name, depths)
        assert group['lr'] == pytest.approx(lr * 0.9**(sum(depths) + 1 - layer_id))
        flat = group['params'][0].dim() == 1
        assert group['weight_decay'] == (0.0 if flat else 0.3), name
    assert by_name['head.fc.weight']['lr'] == pytest.approx(lr)
    assert by_name['backbone.downsample_layers.0.0.weight']['lr'] == \
        pytest.approx(lr * 0.9**12)
