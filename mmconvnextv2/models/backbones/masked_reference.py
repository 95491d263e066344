"""The FCMAE encoder computed densely, re-applying the mask after every layer.

This is the slow, obviously-correct reference for the packed sparse path of
:class:`ConvNeXtV2` (``backbone(x, mask=mask)``): same module, same parameters,
full-size maps, masked positions zeroed after each operation so that nothing
flows from a masked position into a visible one. Tests check the two agree;
the FCMAE benchmark times both.
"""
from typing import Tuple

import torch

from ..layers.visible_set import VisibleSet
from .convnext_v2 import ConvNeXtV2, ConvNeXtV2Block, layer_norm_last


def _block(block: ConvNeXtV2Block, x: torch.Tensor,
           keep: torch.Tensor) -> torch.Tensor:
    """One block on a dense ``(N, C, H, W)`` map; ``keep`` is ``(N, H, W, 1)``."""
    y = block.depthwise_conv(x).permute(0, 2, 3, 1) * keep
    y = block.norm(y) * keep
    y = block.act(block.pointwise_conv1(y)) * keep
    y = block.grn(y) * keep  # the norm over H, W sees zeros at masked sites
    y = block.pointwise_conv2(y) * keep  # (V1: grn is the identity)
    if block.gamma is not None:  # LayerScale (V1)
        y = y * block.gamma
    return x + block.drop_path(y.permute(0, 3, 1, 2))


def dense_masked_forward(backbone: ConvNeXtV2, x: torch.Tensor,
                         mask: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """Outputs of ``backbone(x, mask=mask)``, computed densely (see module doc)."""
    backbone.check_mask(x, mask)
    keeps = [s.visible.unsqueeze(-1).to(x.dtype)
             for s in VisibleSet.pyramid(mask, backbone.num_stages)]
    outs = []
    for i in range(backbone.num_stages):
        keep_nchw = keeps[i].permute(0, 3, 1, 2)
        if i == 0:
            x = backbone.downsample_layers[0](x) * keep_nchw
        else:
            norm, conv = backbone.downsample_layers[i]
            x = norm(x) * keeps[i - 1].permute(0, 3, 1, 2)
            x = conv(x) * keep_nchw
        for block in backbone.stages[i]:
            x = _block(block, x, keeps[i])
        if i in backbone.out_indices:
            out = x.permute(0, 2, 3, 1)
            norm = getattr(backbone, f'norm{i}', None)
            if backbone.gap_before_final_norm:
                out = out.sum(dim=(1, 2)) / keeps[i].sum(dim=(1, 2))
                outs.append(layer_norm_last(norm, out) if norm else out)
                continue
            if norm is not None:
                out = layer_norm_last(norm, out) * keeps[i]
            outs.append(out.permute(0, 3, 1, 2).contiguous())
    return tuple(outs)
