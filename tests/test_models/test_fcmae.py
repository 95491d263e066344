"""FCMAE algorithm: data flow as mmpretrain's MAE/SparK, loss, mask, errors,
the decoder and head taking their sizes from the backbone."""
import os.path as osp

import pytest
import torch
from helpers.downstream import CONFIGS
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmconvnextv2.models import FCMAEDecoder, dense_masked_forward

TINY_ARCH = dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32])


def fcmae_cfg(**overrides) -> dict:
    cfg = dict(
        type='FCMAE', mask_ratio=0.6,
        backbone=dict(type='ConvNeXtV2', arch=TINY_ARCH,
                      gap_before_final_norm=False, norm_outputs=False),
        neck=dict(type='FCMAEDecoder', in_channels=32, embed_dims=16),
        head=dict(type='MAEPretrainHead', patch_size=32,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2')),
        data_preprocessor=dict(type='SelfSupDataPreprocessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], to_rgb=True))
    cfg.update(overrides)
    return cfg


def build(**overrides):
    torch.manual_seed(0)
    model = MODELS.build(fcmae_cfg(**overrides))
    model.init_weights()
    return model


def batch(n: int = 4, size: int = 96):
    """uint8 images with smooth structure (upsampled 3x3 colour grids)."""
    g = torch.Generator().manual_seed(0)
    coarse = torch.rand(n, 3, 3, 3, generator=g) * 255
    images = torch.nn.functional.interpolate(
        coarse, size=(size, size), mode='bilinear', align_corners=True)
    return default_collate([
        dict(inputs=img.round().to(torch.uint8), data_samples=DataSample())
        for img in images
    ])


def test_loss_through_data_preprocessor():
    model = build()
    data = model.data_preprocessor(batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss'}
    assert torch.isfinite(losses['loss']) and losses['loss'] > 0
    feats = model(data['inputs'], mode='tensor')
    assert feats[-1].shape == (4, 32, 3, 3)


def test_mask_counts_and_seed():
    model = build()
    x = torch.zeros(5, 3, 224, 224)
    torch.manual_seed(3)
    mask = model.generate_mask(x)
    assert mask.shape == (5, 7, 7) and mask.dtype == torch.bool
    # official count: keep int(49 * 0.4) = 19, mask 30, in every sample
    assert mask.flatten(1).sum(1).tolist() == [30] * 5
    torch.manual_seed(3)
    assert torch.equal(mask, model.generate_mask(x))
    assert not torch.equal(mask, model.generate_mask(x))


def test_sparse_loss_and_grads_equal_dense_masked():
    model = build().double()
    x = torch.randn(3, 3, 96, 96, dtype=torch.float64)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'grn' in name:
                p.normal_()
    torch.manual_seed(5)
    mask = model.generate_mask(x)

    def loss_of(latent):
        pred = model.neck(latent, mask).flatten(2).transpose(1, 2)
        return model.head.loss(pred, x, mask.flatten(1).double())

    losses, grads = [], []
    for encode in (lambda: model.backbone(x, mask=mask),
                   lambda: dense_masked_forward(model.backbone, x, mask)):
        model.zero_grad()
        loss = loss_of(encode()[-1])
        loss.backward()
        losses.append(loss.detach())
        grads.append([p.grad.clone() for p in model.parameters()])
    assert torch.allclose(losses[0], losses[1], atol=1e-12)
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-10)


def test_loss_only_on_masked_patches():
    model = build().double()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    mask = torch.tensor([[[True, False], [False, False]],
                         [[False, True], [False, False]]])
    out = model.reconstruct(x, mask)
    target = model.head.construct_target(x)
    per_patch = ((out['pred'] - target)**2).mean(-1)
    expected = per_patch[mask.flatten(1)].mean()
    loss = model.head.loss(out['pred'], x, mask.flatten(1).double())
    assert torch.allclose(loss, expected)


def test_loss_falls_when_overfitting():
    model = build()
    data = model.data_preprocessor(batch(n=4, size=64), training=True)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    history = []
    for step in range(40):
        torch.manual_seed(step % 2)  # two fixed masks
        loss = model(**data, mode='loss')['loss']
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    assert sum(history[-5:]) / 5 < 0.7 * sum(history[:5]) / 5, history


@pytest.mark.parametrize('ratio', [0., 1., 1.5, -0.1])
def test_bad_mask_ratio(ratio):
    with pytest.raises(ValueError, match=f'mask_ratio must be in \\(0, 1\\), got {ratio}'):
        MODELS.build(fcmae_cfg(mask_ratio=ratio))


def test_bad_inputs_are_named():
    model = build()
    with pytest.raises(ValueError, match='100x100 is not divisible by the patch size 32'):
        model.generate_mask(torch.zeros(1, 3, 100, 100))
    with pytest.raises(ValueError, match='square images, got 64x96'):
        model.generate_mask(torch.zeros(1, 3, 64, 96))
    with pytest.raises(ValueError, match='decoder in_channels 64 != encoder width 32'):
        MODELS.build(fcmae_cfg(neck=dict(type='FCMAEDecoder', in_channels=64)))
    cfg = fcmae_cfg()
    cfg['head']['patch_size'] = 16
    with pytest.raises(ValueError, match='patch_size 16'):
        MODELS.build(cfg)


def test_a_shipped_config_of_another_size_derives_its_decoder():
    """femto's config states its arch only: the decoder reads the encoder's
    last width (384, not the base recipe's 1024), the patch size and the
    image channels from the backbone, and a loss step runs."""
    cfg = Config.fromfile(osp.join(
        CONFIGS, 'fcmae', 'fcmae_convnext-v2-femto_8xb512-amp-coslr-800e_in1k.py'))
    assert cfg.model.backbone.arch == 'femto'
    assert not {'in_channels', 'patch_size'} & set(cfg.model.neck)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # torch's default init: enough for a step
    assert (model.neck.in_channels, model.neck.patch_size,
            model.neck.out_channels) == (384, 32, 3)
    assert (model.head.patch_size, model.head.in_channels) == (32, 3)
    data = model.data_preprocessor(batch(n=2, size=64), training=True)
    loss = model(**data, mode='loss')['loss']
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    assert model.neck.proj.weight.grad.abs().sum() > 0
    assert model.backbone.downsample_layers[0][0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize('part, key, value, message', [
    ('neck', 'in_channels', 320, 'decoder in_channels 320 != encoder width 32'),
    ('neck', 'patch_size', 16,
     'decoder patch_size 16 != the backbone total stride 32'),
    ('neck', 'out_channels', 1, 'decoder out_channels 1 != the backbone '
     'in_channels 3'),
    ('head', 'patch_size', 16, 'head patch_size 16 != the backbone total '
     'stride 32'),
    ('head', 'in_channels', 1, 'head in_channels 1 != the backbone '
     'in_channels 3'),
])
def test_a_value_against_the_backbone_is_one_line(part, key, value, message):
    cfg = fcmae_cfg()
    cfg[part] = dict(cfg[part], **{key: value})
    with pytest.raises(ValueError) as err:
        MODELS.build(cfg)
    assert str(err.value) == message


def test_a_built_decoder_is_checked_too():
    with pytest.raises(ValueError, match='^decoder in_channels 64 != encoder '
                       'width 32$'):
        MODELS.build(fcmae_cfg(neck=FCMAEDecoder(in_channels=64)))
    model = MODELS.build(fcmae_cfg(neck=FCMAEDecoder(in_channels=32)))
    assert model.neck.in_channels == 32


def test_the_prediction_has_the_image_channels():
    """A one-channel backbone: the decoder predicts one value per pixel and
    the loss compares it with the one-channel image."""
    cfg = fcmae_cfg(neck=dict(type='FCMAEDecoder', embed_dims=16),
                    head=dict(type='MAEPretrainHead', loss=dict(
                        type='PixelReconstructionLoss', criterion='L2')))
    cfg['backbone'] = dict(cfg['backbone'], in_channels=1)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    assert (model.neck.out_channels, model.head.in_channels) == (1, 1)
    x = torch.randn(2, 1, 64, 64)
    out = model.reconstruct(x)
    assert out['pred'].shape == (2, 4, 32 * 32)
    loss = model.loss(x, [DataSample(), DataSample()])['loss']
    assert torch.isfinite(loss) and loss > 0
