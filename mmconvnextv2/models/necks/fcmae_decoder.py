"""The FCMAE decoder: projection, mask token, ConvNeXt V2 block(s), pixel prediction."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.registry import MODELS
from torch import nn

from ..backbones.convnext_v2 import RANDOM_INIT, ConvNeXtV2Block


@MODELS.register_module()
class FCMAEDecoder(BaseModule):
    """Lightweight FCMAE decoder on the encoder's last (densified) map.

    A 1x1 conv projects the encoder output to ``embed_dims`` channels, a learned
    mask token fills the masked positions, ``depth`` dense ConvNeXt V2 blocks
    mix them, and a 1x1 conv predicts ``patch_size**2 * out_channels`` pixel
    values per position (one patch of the image per position).

    In :class:`FCMAE`, ``in_channels``, ``patch_size`` and ``out_channels``
    follow from the backbone and a config leaves them out.

    Args:
        in_channels: Channels of the encoder output.
        embed_dims: Decoder width (the paper: 512).
        depth: Number of decoder blocks (the paper: 1).
        patch_size: Pixels per side predicted by one position (the encoder's
            total stride, 32).
        out_channels: Image channels to predict.
    """

    def __init__(self,
                 in_channels: int = 768,
                 embed_dims: int = 512,
                 depth: int = 1,
                 patch_size: int = 32,
                 out_channels: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg if init_cfg is not None
                         else RANDOM_INIT)
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.patch_size = patch_size
        self.out_channels = out_channels
        self.proj = nn.Conv2d(in_channels, embed_dims, kernel_size=1)
        self.mask_token = nn.Parameter(torch.zeros(1, embed_dims, 1, 1))
        self.decoder = nn.Sequential(
            *[ConvNeXtV2Block(embed_dims) for _ in range(depth)])
        self.pred = nn.Conv2d(
            embed_dims, patch_size**2 * out_channels, kernel_size=1)

    def init_weights(self) -> None:
        super().init_weights()
        if not (isinstance(self.init_cfg, dict)
                and self.init_cfg.get('type') == 'Pretrained'):
            trunc_normal_(self.mask_token, std=.02)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, h, w)`` latent and bool ``(N, h, w)`` mask
        (True = masked) -> ``(N, patch_size**2 * out_channels, h, w)``."""
        if x.shape[1] != self.in_channels:
            raise ValueError(f'decoder expects {self.in_channels} input channels '
                             f'(encoder width), got {x.shape[1]}')
        x = self.proj(x)
        x = torch.where(mask.unsqueeze(1), self.mask_token.to(x.dtype), x)
        return self.pred(self.decoder(x))
