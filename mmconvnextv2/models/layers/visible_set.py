"""Index bookkeeping for running a network on the visible positions of a masked batch.

FCMAE masks the same number of patches in every sample, so the visible positions
of one feature map pack into a dense ``(N, K, C)`` tensor. Pointwise layers run on
that packed tensor; spatial layers scatter it back to an ``(N, C, H, W)`` map whose
masked positions are zero, which is exactly what a sparse convolution computes.
"""
from typing import List

import torch


class VisibleSet:
    """The visible positions of one feature map, the same count in every sample.

    Args:
        visible: Bool tensor ``(N, H, W)``, True where a position is visible.
    """

    def __init__(self, visible: torch.Tensor) -> None:
        n, h, w = visible.shape
        counts = visible.flatten(1).sum(1)
        if not bool((counts == counts[0]).all()):
            raise ValueError(
                'every sample must keep the same number of visible positions, '
                f'got counts {counts.tolist()}')
        self.batch, self.height, self.width = n, h, w
        self.num_visible = int(counts[0])
        # nonzero() is row-major, so each row holds its sample's positions sorted
        self.index = visible.flatten(1).nonzero()[:, 1].view(n, self.num_visible)
        self.visible = visible

    @classmethod
    def pyramid(cls, mask: torch.Tensor, num_stages: int) -> List['VisibleSet']:
        """Visible sets of every stage, finest first, from a patch-level mask.

        Args:
            mask: Bool ``(N, h, w)``, True = masked, one entry per patch of the
                coarsest stage's stride.
            num_stages: Number of stages; stage ``s`` has ``2 ** (num_stages-1-s)``
                positions per patch side.
        """
        visible = ~mask
        sets = []
        for s in range(num_stages):
            scale = 2**(num_stages - 1 - s)
            up = visible.repeat_interleave(scale, 1).repeat_interleave(scale, 2)
            sets.append(cls(up))
        return sets

    def gather(self, dense: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` map -> packed ``(N, K, C)`` visible features."""
        n, c = dense.shape[:2]
        flat = dense.flatten(2).transpose(1, 2)  # (N, HW, C), a view
        return flat.gather(1, self.index.unsqueeze(-1).expand(n, -1, c))

    def scatter(self, packed: torch.Tensor) -> torch.Tensor:
        """Packed ``(N, K, C)`` -> ``(N, C, H, W)`` map, zero at masked positions.

        The result is a channels-last strided view, which is what depthwise
        convolutions are fastest on.
        """
        n, _, c = packed.shape
        flat = packed.new_zeros(n, self.height * self.width, c)
        flat = flat.scatter(1, self.index.unsqueeze(-1).expand(n, -1, c), packed)
        return flat.view(n, self.height, self.width, c).permute(0, 3, 1, 2)

    def children_of(self, coarser: 'VisibleSet') -> torch.Tensor:
        """Packed indices, in this set, of the 2x2 block under each position of
        ``coarser`` (the next stage): a long tensor ``(N, K_coarse, 4)`` ordered
        (top-left, top-right, bottom-left, bottom-right)."""
        n = self.batch
        slot = torch.full((n, self.height * self.width), -1, dtype=torch.long,
                          device=self.index.device)
        slot.scatter_(1, self.index,
                      torch.arange(self.num_visible, device=slot.device)
                      .expand(n, -1).contiguous())
        row = torch.div(coarser.index, coarser.width, rounding_mode='floor')
        col = coarser.index % coarser.width
        corners = []
        for dy in (0, 1):
            for dx in (0, 1):
                corners.append((2 * row + dy) * self.width + 2 * col + dx)
        positions = torch.stack(corners, dim=-1)  # (N, Kc, 4) in this grid
        children = slot.gather(1, positions.flatten(1)).view_as(positions)
        if bool((children < 0).any()):
            raise ValueError('a visible coarse position covers a masked fine one: '
                             'the mask must be given at the coarsest stride')
        return children
