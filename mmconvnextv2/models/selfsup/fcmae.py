"""FCMAE: fully convolutional masked autoencoder pre-training of ConvNeXt V2.

The encoder is the :class:`ConvNeXtV2` backbone itself, called as
``backbone(x, mask=mask)``: it computes at visible positions only, with GRN per
sample over that sample's visible positions (not the batch-wide reduction of
the official MinkowskiEngine code). The ``backbone.*`` weights of an FCMAE
checkpoint therefore load unchanged into every downstream backbone.

What follows from the backbone is taken from it: the decoder's input width
(the encoder's last width), the patch size of the decoder and the loss head
(the backbone's total stride) and the image channels they predict. A config
leaves them out; a value it does give must agree.
"""
import inspect
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

#: an argument of a part -> the value it takes from the backbone, and what
#: that value is (for the error when the part's config says otherwise)
Derived = Dict[str, Tuple[int, str]]


@MODELS.register_module()
class FCMAE(BaseSelfSupervisor):
    """FCMAE algorithm (mmpretrain self-supervisor).

    Args:
        backbone: A ``ConvNeXtV2`` config; FCMAE configs use
            ``out_indices=-1, gap_before_final_norm=False, norm_outputs=False``.
        neck: The decoder, e.g. ``FCMAEDecoder``; its ``in_channels``,
            ``patch_size`` and ``out_channels`` default to the backbone's.
        head: The loss head, mmpretrain's ``MAEPretrainHead`` (MSE on masked
            patches, optional ``norm_pix`` target; off by default, as in the
            official code); its ``patch_size`` and ``in_channels`` default
            to the backbone's.
        mask_ratio: Fraction of patches masked, in (0, 1); every sample gets
            exactly ``num_patches - int(num_patches * (1 - mask_ratio))``.
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` reads an FCMAE
            checkpoint in any known layout (official raw training files with
            their decoder, released encoder-only files, ours); ``stem_rule``
            as for ``ConvNeXtV2``.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 mask_ratio: float = 0.6,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if not 0 < mask_ratio < 1:
            raise ValueError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
        if not isinstance(backbone, nn.Module):
            backbone = MODELS.build(backbone)
        stride = (backbone.total_stride, 'the backbone total stride')
        # the image channels: the stem's
        channels = (backbone.downsample_layers[0][0].in_channels,
                    'the backbone in_channels')
        neck = follow_backbone(neck, 'decoder', dict(
            in_channels=(backbone.channels[-1], 'encoder width'),
            patch_size=stride, out_channels=channels))
        head = follow_backbone(head, 'head', dict(
            patch_size=stride, in_channels=channels))
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.mask_ratio = mask_ratio
        self.patch_size = self.backbone.total_stride

    def init_weights(self) -> None:
        """Random init; with a ``Pretrained`` init_cfg, then load the file,
        converting its layout, and report a decoder missing from it."""
        cfg = self.init_cfg
        if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
            return super().init_weights()
        for module in (self.backbone, self.neck, self.head):
            module.init_weights()
        from ...checkpoint import load_fcmae_checkpoint
        load_fcmae_checkpoint(self, cfg['checkpoint'],
                              map_location=cfg.get('map_location', 'cpu'),
                              stem_rule=cfg.get('stem_rule', 'mean'))
        self._is_init = True

    def generate_mask(self, inputs: torch.Tensor) -> torch.Tensor:
        """Random patch mask, bool ``(N, H/P, W/P)``, True = masked; the same
        number of masked patches in every sample. Uses torch's global RNG, so
        mmengine's ``randomness.seed`` makes it reproducible."""
        n, _, h, w = inputs.shape
        p = self.patch_size
        if h % p or w % p:
            raise ValueError(f'image size {h}x{w} is not divisible by the patch '
                             f'size {p} (the backbone total stride)')
        if h != w:
            raise ValueError(f'FCMAE needs square images, got {h}x{w}')
        num_patches = (h // p) * (w // p)
        num_keep = int(num_patches * (1 - self.mask_ratio))
        if num_keep < 1 or num_keep == num_patches:
            raise ValueError(
                f'mask_ratio {self.mask_ratio} keeps {num_keep} of '
                f'{num_patches} patches: need at least one kept and one masked')
        order = torch.rand(n, num_patches, device=inputs.device).argsort(dim=1)
        mask = torch.zeros(n, num_patches, dtype=torch.bool, device=inputs.device)
        mask.scatter_(1, order[:, num_keep:], True)
        return mask.view(n, h // p, w // p)

    def extract_feat(self, inputs: torch.Tensor):
        """Dense features of the (unmasked) encoder."""
        return self.backbone(inputs)

    def reconstruct(self, inputs: torch.Tensor,
                    mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Predicted pixels ``(N, L, P*P*C)`` and the mask ``(N, h, w)``."""
        if mask is None:
            mask = self.generate_mask(inputs)
        latent = self.backbone(inputs, mask=mask)[-1]
        pred = self.neck(latent, mask)
        return dict(pred=pred.flatten(2).transpose(1, 2), mask=mask)

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Mask, encode the visible patches, decode, MSE on masked patches."""
        out = self.reconstruct(inputs)
        # the loss in fp32 also under autocast: squared errors and their sum
        # over an image overflow fp16
        with torch.autocast(inputs.device.type, enabled=False):
            loss = self.head.loss(out['pred'].float(), inputs.float(),
                                  out['mask'].flatten(1).float())
        return dict(loss=loss)


def follow_backbone(part: Union[dict, nn.Module], label: str,
                    derived: Derived) -> Union[dict, nn.Module]:
    """``part`` (a config or a built module) with the values that follow from
    the backbone: each ``derived`` argument its config leaves out and its
    class takes is filled in; one that it gives and that differs raises a
    one-line ``ValueError`` naming both values."""
    if isinstance(part, nn.Module):
        given, takes = vars(part), set()
    else:
        part = dict(part)
        given, takes = part, _arguments(part['type'])
    for key, (value, source) in derived.items():
        if key in given and given[key] != value:
            raise ValueError(
                f'{label} {key} {given[key]} != {source} {value}')
        if key in takes:
            part.setdefault(key, value)
    return part


def _arguments(kind: Union[str, type]) -> set:
    """Names of the constructor arguments of a registered model part."""
    cls = MODELS.get(kind) if isinstance(kind, str) else kind
    if cls is None:
        raise KeyError(f'{kind!r} is not a registered model part')
    return set(inspect.signature(cls).parameters)
