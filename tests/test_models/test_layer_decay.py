"""mmpretrain's LearningRateDecayOptimWrapperConstructor on a ConvNeXtV2
classifier: lr scales follow the official 'group' / 'single' layer ids, and
norms, GRN gamma/beta and biases get no weight decay."""
import pytest
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

DEPTHS = [2, 2, 6, 2]  # atto


def official_group_id(name: str) -> int:
    """The official 'group' rule (optim_factory.get_num_layer_for_convnext),
    for a third stage of at most 9 blocks (6 groups)."""
    parts = name.split('.')
    if parts[1] == 'downsample_layers':
        stage = int(parts[2])
        return {0: 0, 1: 2, 2: 3, 3: 6}[stage]
    if parts[1] == 'stages':
        stage, block = int(parts[2]), int(parts[3])
        return {0: 1, 1: 2, 3: 6}.get(stage, 3 + block // 3)
    return 7


def official_single_id(name: str) -> int:
    """The official 'single' rule (get_num_layer_for_convnext_single)."""
    parts = name.split('.')
    if parts[1] == 'downsample_layers':
        return sum(DEPTHS[:int(parts[2])]) + 1
    if parts[1] == 'stages':
        return sum(DEPTHS[:int(parts[2])]) + int(parts[3]) + 1
    return sum(DEPTHS) + 1


@pytest.mark.parametrize('kind,rule,num_ids', [
    ('group', official_group_id, 8), ('single', official_single_id, 14)])
def test_layer_decay_groups(kind, rule, num_ids):
    init_default_scope('mmpretrain')
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='ConvNeXtV2', arch='atto', layer_decay_type=kind),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=320)))
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='LearningRateDecayOptimWrapperConstructor',
        optim_wrapper_cfg=dict(optimizer=dict(type='AdamW', lr=1.0,
                                              weight_decay=0.05)),
        paramwise_cfg=dict(layer_decay_rate=0.5, flat_decay_mult=0.0)))
    groups = constructor(model).optimizer.param_groups
    by_name = {g['param_name']: g for g in groups}
    assert set(by_name) == {n for n, _ in model.named_parameters()}
    for name, group in by_name.items():
        layer_id = rule(name)
        assert group['layer_id'] == layer_id, name
        assert group['lr'] == pytest.approx(0.5**(num_ids - layer_id - 1)), name
        flat = group['params'][0].dim() == 1
        assert group['weight_decay'] == (0.0 if flat else 0.05), name
    # what the recipe relies on: GRN and every norm are never decayed
    for name, group in by_name.items():
        if '.grn.' in name or 'norm' in name:
            assert group['weight_decay'] == 0.0, name
    assert by_name['head.fc.weight']['lr'] == pytest.approx(1.0)
