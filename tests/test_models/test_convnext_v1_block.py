"""The ConvNeXt V1 block option of ConvNeXtV2 (``block_type='v1'``): no GRN,
LayerScale ``gamma`` at 1e-6, same arch table; V2 unchanged; V1 weights load
through the checkpoint loader (and only into a V1 backbone)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmconvnextv2.checkpoint import CheckpointMismatchError, load_backbone_checkpoint
from mmconvnextv2.models import ConvNeXtV2

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_ARCH = dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32])
V1_FCMAE = 'configs/fcmae/fcmae_convnext-v1-atto_1xb16-coslr-1000i_synthetic-128px.py'


def build(block_type: str = 'v2', **kwargs) -> ConvNeXtV2:
    torch.manual_seed(0)
    model = ConvNeXtV2(arch=TINY_ARCH, block_type=block_type, **kwargs)
    model.init_weights()
    return model


def test_parameter_names_as_documented():
    v2 = {n: p.shape for n, p in build('v2').named_parameters()}
    v1 = {n: p.shape for n, p in build('v1').named_parameters()}
    block = 'stages.2.1.'
    shared = [f'{m}.{p}' for m in ('depthwise_conv', 'norm', 'pointwise_conv1',
                                   'pointwise_conv2') for p in ('weight', 'bias')]
    for name in shared:
        assert v1[block + name] == v2[block + name]
    assert v2[block + 'grn.gamma'] == v2[block + 'grn.beta'] == (96, )
    assert block + 'gamma' not in v2
    assert v1[block + 'gamma'] == (24, )
    assert not [n for n in v1 if '.grn.' in n]
    # everything outside the blocks is the same network
    assert {n for n in v1 if not n.startswith('stages.')} == \
        {n for n in v2 if not n.startswith('stages.')}


def test_v1_block_init_and_forward():
    model = build('v1', out_indices=(0, 1, 2, 3), gap_before_final_norm=False)
    for stage in model.stages:
        for block in stage:
            assert torch.equal(block.gamma, torch.full_like(block.gamma, 1e-6))
            assert isinstance(block.grn, torch.nn.Identity)
    outs = model(torch.randn(2, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [8, 16, 24, 32]
    # a block by hand: x + gamma * pw2(gelu(pw1(ln(dw(x)))))
    block = model.stages[1][0]
    torch.nn.init.normal_(block.gamma)
    x = torch.randn(1, 16, 8, 8)
    y = block.depthwise_conv(x).permute(0, 2, 3, 1)
    y = block.pointwise_conv2(torch.nn.functional.gelu(
        block.pointwise_conv1(block.norm(y)))) * block.gamma
    assert torch.allclose(block(x), x + y.permute(0, 3, 1, 2), atol=1e-6)
    custom = build('v1', layer_scale_init_value=0.5).stages[0][0].gamma
    assert torch.equal(custom, torch.full((8, ), 0.5))
    assert build('v1', layer_scale_init_value=0.).stages[0][0].gamma is None


def test_v2_default_unchanged_by_the_option():
    default, explicit = build(), build('v2')
    assert [n for n, _ in default.named_parameters()] == \
        [n for n, _ in explicit.named_parameters()]
    assert all(b.gamma is None for s in default.stages for b in s)
    x = torch.randn(2, 3, 64, 64)
    assert torch.equal(default(x)[0], explicit(x)[0])


def test_bad_block_type_is_named():
    with pytest.raises(ValueError, match="block_type must be one of.*'v3'"):
        ConvNeXtV2(arch=TINY_ARCH, block_type='v3')
    with pytest.raises(ValueError, match='layer_scale_init_value must be >= 0'):
        ConvNeXtV2(arch=TINY_ARCH, block_type='v1', layer_scale_init_value=-1.)


def test_v1_weights_load_into_v1_only(tmp_path):
    source = build('v1')
    with torch.no_grad():
        for p in source.parameters():
            p.normal_()
    ours = tmp_path / 'v1.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               source.state_dict().items()}}, ours)
    target = ConvNeXtV2(arch=TINY_ARCH, block_type='v1')
    load_backbone_checkpoint(target, ours)
    for (name, a), b in zip(source.state_dict().items(),
                            target.state_dict().values()):
        assert torch.equal(a, b), name
    # the official ConvNeXt V1 layout (LayerScale as stages.{s}.{b}.gamma)
    official = {k.replace('depthwise_conv', 'dwconv').replace(
        'pointwise_conv', 'pwconv'): v for k, v in source.state_dict().items()}
    official_file = tmp_path / 'convnext_v1_official.pth'
    torch.save({'model': official}, official_file)
    again = ConvNeXtV2(arch=TINY_ARCH, block_type='v1')
    load_backbone_checkpoint(again, official_file)
    assert torch.equal(again.stages[2][1].gamma, source.stages[2][1].gamma)
    with pytest.raises(CheckpointMismatchError, match="block_type='v1'"):
        load_backbone_checkpoint(ConvNeXtV2(arch=TINY_ARCH), ours)
    v2 = tmp_path / 'v2.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               build('v2').state_dict().items()}}, v2)
    with pytest.raises(CheckpointMismatchError, match='holds ConvNeXt V2 blocks'):
        load_backbone_checkpoint(ConvNeXtV2(arch=TINY_ARCH, block_type='v1'), v2)


def test_v1_fcmae_config_is_the_v2_twin():
    v1 = Config.fromfile(osp.join(ROOT, V1_FCMAE))
    v2 = Config.fromfile(osp.join(
        ROOT, V1_FCMAE.replace('convnext-v1', 'convnext-v2')))
    assert v1.model.backbone.block_type == 'v1'
    v1.model.backbone.pop('block_type')
    assert v1.to_dict() == v2.to_dict()


def test_fcmae_pretrains_a_v1_encoder(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, V1_FCMAE))
    cfg.model.backbone.arch = TINY_ARCH
    cfg.model.neck.in_channels = 32
    cfg.model.neck.embed_dims = 16
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert model.backbone.block_type == 'v1'
    torch.manual_seed(0)
    data = model.data_preprocessor(default_collate([
        dict(inputs=torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8),
             data_samples=DataSample()) for _ in range(2)]), True)
    losses = model(**data, mode='loss')
    loss = sum(v for v in losses.values())
    assert torch.isfinite(loss)
    loss.backward()
    assert model.backbone.stages[0][0].gamma.grad is not None
    # its checkpoint initialises a V1 backbone for fine-tuning
    with torch.no_grad():
        model.backbone.stages[2][1].gamma.normal_()
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'fcmae_v1.pth')
    finetune = ConvNeXtV2(arch=TINY_ARCH, block_type='v1', init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'fcmae_v1.pth'),
        prefix='backbone.'))
    finetune.init_weights()
    for name, value in model.backbone.state_dict().items():
        assert torch.equal(finetune.state_dict()[name], value), name
    # not into a V2 backbone, though its (V2) decoder block has GRN
    with pytest.raises(CheckpointMismatchError,
                       match="it is a ConvNeXt V1.*block_type='v1'"):
        load_backbone_checkpoint(ConvNeXtV2(arch=TINY_ARCH),
                                 tmp_path / 'fcmae_v1.pth', prefix='backbone.')
    with pytest.raises(CheckpointMismatchError,
                       match="holds ConvNeXt V1 blocks.*block_type='v2'"):
        load_backbone_checkpoint(ConvNeXtV2(arch=TINY_ARCH),
                                 tmp_path / 'fcmae_v1.pth')
