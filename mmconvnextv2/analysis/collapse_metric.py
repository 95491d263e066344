"""Feature collapse, measured as in the ConvNeXt V2 paper (its Figures 3 and 4).

For one image's tapped activation ``X`` (``H x W x C``), with ``X_i`` the
``HW``-vector of channel ``i``::

    distance = (1 / C^2) * sum_i sum_j (1 - cos(X_i, X_j)) / 2

0 means every channel carries the same map (collapse); channels that are
orthogonal give 1/2 per pair. A channel whose norm is below
``DEAD_THRESHOLD`` times the largest channel norm of that image is *dead*:
it counts as identical to every channel (cosine 1, with itself and with
other dead channels too), and the fraction of dead channels is reported
beside the distance. The sum over all pairs (the diagonal included, as the
formula says) makes ``C`` orthogonal channels give ``(1 - 1/C) / 2``.

A block's figures are the means over the images (:mod:`.collapse_taps`);
a stage's, the means over its blocks.
"""
from typing import Dict, List, Sequence, Tuple

import torch

__all__ = ['DEAD_THRESHOLD', 'channel_distance', 'stage_means',
           'overall_means']

#: A channel with a norm below this times the image's largest is dead.
DEAD_THRESHOLD = 1e-6


def channel_distance(x: torch.Tensor) -> Tuple[float, float]:
    """Mean pairwise cosine distance between the channels of one image's map,
    and the fraction of dead channels.

    Args:
        x: Channel-last activation ``(..., C)`` of ONE image (e.g.
            ``(H, W, C)``); all leading dimensions are spatial.

    Returns:
        ``(distance, dead_fraction)`` as defined in the module docstring.
    """
    if x.dim() < 2:
        raise ValueError('an activation needs spatial and channel dimensions, '
                         f'got shape {tuple(x.shape)}')
    c = x.shape[-1]
    flat = x.reshape(-1, c).double()
    norms = torch.linalg.vector_norm(flat, dim=0)
    top = norms.max()
    dead = norms < DEAD_THRESHOLD * top if top > 0 else \
        torch.ones_like(norms, dtype=torch.bool)
    alive = ~dead
    units = flat[:, alive] / norms[alive]
    # sum over alive pairs of cos = |sum of unit vectors|^2; every pair with
    # a dead channel has cosine 1, so it adds nothing to the distance
    num_alive = float(alive.sum())
    cos_sum = float(units.sum(dim=1).pow(2).sum())
    distance = max(0., (num_alive * num_alive - cos_sum) / (2 * c * c))
    return distance, float(dead.sum()) / c


def overall_means(blocks: Sequence[Dict]) -> Dict[str, float]:
    """The mean distance and mean dead fraction of ``blocks`` (dicts with
    ``distance`` and ``dead``)."""
    return dict(distance=sum(b['distance'] for b in blocks) / len(blocks),
                dead=sum(b['dead'] for b in blocks) / len(blocks))


def stage_means(blocks: Sequence[Dict]) -> List[Dict[str, float]]:
    """Per stage: the mean distance and mean dead fraction of its blocks."""
    return [dict(stage=s, **overall_means([b for b in blocks
                                           if b['stage'] == s]))
            for s in sorted({b['stage'] for b in blocks})]
