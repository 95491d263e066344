"""Global Response Normalization (GRN), the layer ConvNeXt V2 adds to ConvNeXt."""
import torch
from torch import nn


class GRN(nn.Module):
    """Global Response Normalization on channel-last features.

    ``GRN(x) = gamma * (x * N(x)) + beta + x`` where ``G(x)`` is the L2 norm of
    each channel over the spatial positions of one sample and
    ``N(x) = G(x) / (mean_c G(x) + eps)``.

    The input is ``(N, ..., C)``: every dimension between the batch and the
    channel one is spatial. A dense map is ``(N, H, W, C)``; the packed visible
    positions of a masked batch are ``(N, K, C)``, so the same call gives GRN
    per sample over that sample's visible positions only.

    ``gamma`` and ``beta`` are 1-D, so OpenMMLab's layer-decay optimizer
    constructors exempt them from weight decay. Both start at zero: GRN starts
    as the identity.

    It computes in at least fp32 and returns the input's dtype (fp16, bf16
    under autocast).

    Args:
        channels: Number of channels C.
        eps: Added to the mean response to avoid division by zero.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.channels = channels
        self.eps = eps
        self.gamma = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # in fp32 (or fp64) whatever the input's dtype: an fp16 norm over a
        # map overflows (65504) already for responses in the thousands
        spatial_dims = tuple(range(1, x.dim() - 1))
        y = x.to(torch.promote_types(x.dtype, torch.float32))
        gx = torch.linalg.vector_norm(y, ord=2, dim=spatial_dims, keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + self.eps)
        # x + gamma * (x * N(x)) + beta == x * (1 + gamma * N(x)) + beta: one
        # pass over the map instead of three (the factor is per sample and
        # channel), and only x is kept for the backward pass
        return torch.addcmul(self.beta, y, 1 + self.gamma * nx).to(x.dtype)

    def extra_repr(self) -> str:
        return f'{self.channels}, eps={self.eps}'
