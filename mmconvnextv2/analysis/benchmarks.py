"""The models the benchmarks and the GPU check time: our backbone beside
mmpretrain's ConvNeXt and timm's convnextv2 on identical weights, our FCMAE
beside mmpretrain's SparK, and the dense-masked FCMAE loss; plus the bytes
autograd saves for backward."""
from typing import Callable, Dict

import torch

__all__ = ['build_models', 'saved_bytes', 'encoder_width', 'build_fcmae',
           'build_spark', 'dense_masked_loss']


def build_models(arch: str) -> Dict[str, torch.nn.Module]:
    """The three implementations holding the same (timm-initialised)
    weights: ``'ours ConvNeXtV2'``, ``'mmpretrain ConvNeXt'`` (GRN, no
    LayerScale) and ``'timm convnextv2'``."""
    import timm
    from mmpretrain.models import ConvNeXt

    from mmconvnextv2.checkpoint import convert_checkpoint
    from mmconvnextv2.models import ConvNeXtV2
    reference = timm.create_model(f'convnextv2_{arch}', pretrained=False,
                                  num_classes=0)
    ours = ConvNeXtV2(arch=arch, out_indices=-1)
    state = convert_checkpoint(reference.state_dict())
    ours.load_state_dict({k[9:]: v for k, v in state.items()
                          if k.startswith('backbone.')}, strict=True)
    theirs = ConvNeXt(arch=arch, use_grn=True, layer_scale_init_value=0.,
                      out_indices=-1)
    missing = theirs.load_state_dict(ours.state_dict(), strict=False)
    assert not missing.missing_keys, missing
    return {'ours ConvNeXtV2': ours, 'mmpretrain ConvNeXt': theirs,
            'timm convnextv2': reference}


def saved_bytes(step: Callable[[], torch.Tensor]) -> int:
    """Bytes of the distinct tensors autograd saves for backward in
    ``step`` (which returns a loss; its backward is run)."""
    seen: Dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = step()
    loss.backward()
    return sum(seen.values())


def encoder_width(arch: str) -> int:
    """Channels of the last stage of ``arch`` (the backbone's arch table)."""
    from mmconvnextv2.models import ConvNeXtV2
    return ConvNeXtV2.arch_settings[arch]['channels'][-1]


def build_fcmae(arch: str) -> torch.nn.Module:
    """Our FCMAE as in configs/fcmae (decoder width 512, depth 1); needs
    the ``mmpretrain`` default scope."""
    from mmpretrain.registry import MODELS

    import mmconvnextv2  # noqa: F401  (registers FCMAE)
    return MODELS.build(dict(
        type='FCMAE', mask_ratio=0.6,
        backbone=dict(type='ConvNeXtV2', arch=arch, gap_before_final_norm=False,
                      norm_outputs=False),
        neck=dict(type='FCMAEDecoder', in_channels=encoder_width(arch),
                  embed_dims=512),
        head=dict(type='MAEPretrainHead', patch_size=32,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2'))))


def build_spark(arch: str) -> torch.nn.Module:
    """mmpretrain's SparK with SparseConvNeXt (its ConvNeXt V2 config)."""
    from mmpretrain.registry import MODELS
    return MODELS.build(dict(
        type='SparK', input_size=224, downsample_raito=32, mask_ratio=0.6,
        enc_dec_norm_cfg=dict(type='SparseLN2d', eps=1e-6),
        enc_dec_norm_dim=encoder_width(arch),
        backbone=dict(type='SparseConvNeXt', arch=arch, out_indices=(0, 1, 2, 3),
                      gap_before_output=False, layer_scale_init_value=0.,
                      use_grn=True),
        neck=dict(type='SparKLightDecoder', feature_dim=512, upsample_ratio=32,
                  mid_channels=0, last_act=False),
        head=dict(type='SparKPretrainHead',
                  loss=dict(type='PixelReconstructionLoss', criterion='L2'))))


def dense_masked_loss(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """FCMAE loss with the encoder run as the dense-masked reference."""
    from mmconvnextv2.models import dense_masked_forward
    mask = model.generate_mask(x)
    latent = dense_masked_forward(model.backbone, x, mask)[-1]
    pred = model.neck(latent, mask).flatten(2).transpose(1, 2)
    return model.head.loss(pred, x, mask.flatten(1).to(pred.dtype))
