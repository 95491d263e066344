"""The FLOP limit of the sparse FCMAE encoder: how much faster than the
dense-masked reference a step could be if time followed multiply-adds.

Per image of ``size`` px with ``mask_ratio`` of the 32 px patches masked
(``keep = 1 - mask_ratio``), counting multiply-adds of the encoder:

* stem (4x4 conv, 3 -> C0): dense in both paths;
* each block's 7x7 depthwise conv: on the whole map in both paths (the
  sparse path scatters the visible positions back with zeros);
* each block's pointwise part (Linear C -> 4C, Linear 4C -> C; LayerNorm,
  GELU and GRN are a few operations per element): on every position densely,
  on the ``keep`` fraction sparsely;
* each 2x2 stride-2 downsampling conv (C -> 2C): likewise.

The decoder and the loss are the same work in both paths and are added to
both. The backward pass costs about twice the forward in both, so the ratio
of forward counts is the step's limit.
"""
from typing import Dict, Sequence

from ..models.backbones.convnext_v2 import ConvNeXtV2

__all__ = ['encoder_macs', 'decoder_macs', 'fcmae_flop_limit']


def encoder_macs(depths: Sequence[int], channels: Sequence[int], size: int,
                 keep: float = 1.) -> float:
    """Multiply-adds of the encoder's forward on one image; pointwise layers
    and downsampling on the ``keep`` fraction of positions."""
    side = size // 4
    macs = 48. * channels[0] * side * side  # stem
    for i, (depth, c) in enumerate(zip(depths, channels)):
        positions = side * side
        if i > 0:
            macs += 4. * channels[i - 1] * c * positions * keep
        per_block = 49. * c * positions + 8. * c * c * positions * keep
        macs += depth * per_block
        side //= 2
    return macs


def decoder_macs(in_channels: int, embed_dims: int, size: int,
                 patch_size: int = 32) -> float:
    """The FCMAE decoder on the ``size / 32`` map: 1x1 projection, one
    ConvNeXt block (7x7 depthwise, MLP 4x), prediction of the patch pixels."""
    positions = (size // patch_size) ** 2
    return positions * (in_channels * embed_dims + 49. * embed_dims
                        + 8. * embed_dims ** 2
                        + embed_dims * 3 * patch_size ** 2)


def fcmae_flop_limit(arch: str, size: int = 224, mask_ratio: float = 0.6,
                     embed_dims: int = 512) -> Dict[str, float]:
    """Dense-masked and sparse multiply-adds of an FCMAE forward (GMACs per
    image) and their ratio, the speed-up a FLOP-bound device could reach."""
    setting = ConvNeXtV2.arch_settings[arch]
    depths, channels = setting['depths'], setting['channels']
    keep = 1. - mask_ratio
    decoder = decoder_macs(channels[-1], embed_dims, size)
    dense = encoder_macs(depths, channels, size) + decoder
    sparse = encoder_macs(depths, channels, size, keep) + decoder
    return dict(dense_gmacs=round(dense / 1e9, 3),
                sparse_gmacs=round(sparse / 1e9, 3),
                flop_limit=round(dense / sparse, 3))
