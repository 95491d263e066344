"""Mixed precision on CPU: bf16 autocast of the dense and masked backbone,
the FCMAE loss and an UperNet loss step agree with fp32; GRN and the FCMAE
loss stay finite on fp16 inputs of large magnitude, and masked positions
stay exactly zero."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmconvnextv2.models import FCMAE, GRN, ConvNeXtV2
from mmconvnextv2.utils import build_model, quiet_init, seg_inputs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BF16 = dict(device_type='cpu', dtype=torch.bfloat16)
BF16_TOL = 3e-2  # relative L2 error; measured 0.5e-2 to 1.1e-2 on atto


def rel_err(ref: torch.Tensor, other: torch.Tensor) -> float:
    return ((ref.double() - other.double()).norm() / ref.double().norm()).item()


def backbone() -> ConvNeXtV2:
    """atto with GRN switched on (its gamma / beta start at zero)."""
    torch.manual_seed(0)
    model = ConvNeXtV2(arch='atto', out_indices=(0, 1, 2, 3),
                       gap_before_final_norm=False).eval()
    for block in (b for stage in model.stages for b in stage):
        torch.nn.init.normal_(block.grn.gamma, std=0.5)
        torch.nn.init.normal_(block.grn.beta, std=0.1)
    return model


def two_masks() -> torch.Tensor:
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0, :9] = True
    mask[1, 5:14] = True
    return mask.view(2, 4, 4)


def masked_out(mask: torch.Tensor, side: int) -> torch.Tensor:
    """The mask at a map of ``side`` x ``side``, (N, 1, side, side)."""
    r = side // mask.shape[-1]
    return mask.repeat_interleave(r, 1).repeat_interleave(r, 2)[:, None]


@pytest.mark.parametrize('masked', [False, True])
def test_backbone_bf16_autocast_agrees_with_fp32(masked):
    model = backbone()
    x = torch.randn(2, 3, 128, 128)
    mask = two_masks() if masked else None
    with torch.no_grad():
        ref = model(x, mask=mask)
        with torch.autocast(**BF16):
            low = model(x, mask=mask)
    for r, o in zip(ref, low):
        assert o.dtype == torch.bfloat16
        assert rel_err(r, o) < BF16_TOL
        if masked:  # exactly zero where masked, in bf16 too
            assert not o[masked_out(mask, o.shape[-1]).expand_as(o)].any()


def test_masked_positions_stay_zero_in_fp16():
    model = backbone()
    x = 300 * torch.randn(2, 3, 128, 128)
    mask = two_masks()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.float16):
        outs = model(x, mask=mask)
    for o in outs:
        assert o.dtype == torch.float16 and torch.isfinite(o).all()
        assert not o[masked_out(mask, o.shape[-1]).expand_as(o)].any()


def test_grn_fp16_large_responses_do_not_overflow():
    grn = GRN(8).half()
    torch.nn.init.normal_(grn.gamma, std=0.5)
    x = (3000 * torch.rand(2, 56, 56, 8) + 100).half()
    # the norm over 56 x 56 positions is ~1.7e5, above fp16's 65504
    assert torch.isinf(torch.linalg.vector_norm(x, dim=(1, 2))).any()
    out = grn(x)
    assert out.dtype == torch.float16 and torch.isfinite(out).all()
    ref = GRN(8).double()
    ref.load_state_dict(grn.state_dict())
    assert rel_err(ref(x.double()), out) < 1e-3


def fcmae() -> FCMAE:
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='FCMAE', mask_ratio=0.6,
        backbone=dict(type='ConvNeXtV2', arch='atto',
                      gap_before_final_norm=False, norm_outputs=False),
        neck=dict(type='FCMAEDecoder', in_channels=320, embed_dims=64),
        head=dict(type='MAEPretrainHead', patch_size=32,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2'))))


def test_fcmae_loss_in_fp32_under_bf16_autocast():
    model = fcmae().train()
    x = torch.randn(2, 3, 128, 128)
    torch.manual_seed(1)
    ref = model.loss(x, [])['loss']
    with torch.autocast(**BF16):
        torch.manual_seed(1)  # the same mask
        low = model.loss(x, [])['loss']
    assert low.dtype == torch.float32
    assert abs(low.item() - ref.item()) <= BF16_TOL * ref.item()
    low.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_fcmae_loss_of_an_fp16_model_does_not_overflow():
    """Pixels of ~1e3 give squared errors of ~1e6, beyond fp16's 65504: the
    loss is computed in fp32 from the fp16 prediction."""
    model = fcmae().train()
    x = 1000 * torch.randn(2, 3, 128, 128)
    torch.manual_seed(1)
    ref = model.loss(x, [])['loss']
    torch.manual_seed(1)
    low = model.half().loss(x.half(), [])['loss']
    assert low.dtype == torch.float32 and torch.isfinite(low)
    assert abs(low.item() - ref.item()) <= 1e-2 * ref.item()


def test_upernet_loss_step_bf16_agrees_with_fp32():
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'))
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = build_model(cfg, init=False)
    quiet_init(model)
    model.train()
    data = seg_inputs([(64, 64)] * 2, num_classes=cfg.model.decode_head.num_classes)
    batch = model.data_preprocessor(data, True)
    torch.manual_seed(0)
    ref = model(**batch, mode='loss')
    with torch.autocast(**BF16):
        torch.manual_seed(0)
        low = model(**batch, mode='loss')
    loss, _ = model.parse_losses(low)
    assert torch.isfinite(loss)
    loss.backward()
    for key in ('decode.loss_ce', 'aux.loss_ce'):
        assert abs(low[key].item() - ref[key].item()) <= BF16_TOL * ref[key].item()
    grads = [p.grad for p in model.backbone.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
