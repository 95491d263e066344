"""LayerNorm over the channels of an (N, C, H, W) map."""
import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over C of ``(N, C, H, W)``, returned as a channels-last strided
    view (no copy back to NCHW, unlike mmpretrain's ``LayerNorm2d``): the
    convolutions that follow run faster on it. Same parameters, same names."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape,
                         self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
