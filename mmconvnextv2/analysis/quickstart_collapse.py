"""Catching a fine-tuning run whose validation collapsed while its training
loss fell: such a run is a failure to say, not a result to average.

A run is ``collapsed`` when its task's primary metric (:data:`PRIMARY`) is
below the larger of a fixed floor (:data:`FLOORS`) and
:data:`RELATIVE_FLOOR` of the best run's value in the same table, while the
training loss it logged fell as in training (the mean of the last quarter of
its logged losses at least :data:`MIN_LOSS_DROP` below the mean of the first
quarter). A run whose loss did not fall did not train (or barely did, as in
a two-iteration smoke run), which the table shows as it is.
"""
import math
from typing import Dict, Iterable, List, Optional, Tuple

from .results import loss_history

__all__ = ['PRIMARY', 'FLOORS', 'RELATIVE_FLOOR', 'MIN_LOSS_DROP',
           'METRIC_LABELS',
           'loss_change', 'collapse_reason', 'mark_collapses', 'rule']

#: The metric each task is judged by.
PRIMARY = {'det': 'coco/bbox_mAP', 'seg': 'mIoU', 'cls': 'accuracy/top1'}
#: Below this a run has learnt next to nothing (mAP in 0-1; mIoU and
#: accuracy in 0-100).
FLOORS = {'coco/bbox_mAP': 0.02, 'coco/segm_mAP': 0.02, 'mIoU': 2.0,
          'accuracy/top1': 2.0}
#: ... or below this share of the best run's value.
RELATIVE_FLOOR = 0.1
#: The share by which the training loss must have fallen.
MIN_LOSS_DROP = 0.1
#: How the tables name the metrics.
METRIC_LABELS = {'coco/bbox_mAP': 'bbox mAP', 'coco/segm_mAP': 'segm mAP',
                 'mIoU': 'mIoU', 'accuracy/top1': 'top-1'}


def loss_change(run_dir: str) -> Optional[Tuple[float, float]]:
    """``(first, last)``: the mean training loss of the first and of the
    last quarter of a run's logged losses (at least one value each); None
    with fewer than two logged values."""
    losses = [v for v in loss_history(run_dir)['loss'] if math.isfinite(v)]
    if len(losses) < 2:
        return None
    part = max(1, len(losses) // 4)
    return (sum(losses[:part]) / part, sum(losses[-part:]) / part)


def collapse_reason(metric: str, value: float, best: float,
                    losses: Optional[Tuple[float, float]]) -> Optional[str]:
    """Why a run with ``value`` of ``metric`` (the best run's: ``best``)
    and training losses ``(first, last)`` is collapsed, or None when it is
    not (its loss did not fall by :data:`MIN_LOSS_DROP`, or its value is
    above the floor)."""
    if losses is None or not losses[1] <= (1 - MIN_LOSS_DROP) * losses[0] \
            or not math.isfinite(value):
        return None
    floor, share = FLOORS.get(metric, 0.), RELATIVE_FLOOR * best
    if value >= max(floor, share):
        return None
    which = (f'{RELATIVE_FLOOR:.0%} of the best run\'s {best:.4f}'
             if share > floor else 'the floor')
    return (f'{METRIC_LABELS.get(metric, metric)} {value:.4f} < '
            f'{max(floor, share):.4f}, {which}, while its training loss '
            f'fell {losses[0]:.3f} -> {losses[1]:.3f}')


def mark_collapses(runs: Iterable[Dict]) -> List[Dict]:
    """Set ``collapsed`` and ``collapse_reason`` of each run (``kind``:
    det, seg or cls; ``metrics``; ``dir``: its work dir) against the best
    run of its kind; returns the collapsed runs."""
    runs = list(runs)
    best: Dict[str, float] = {}
    for r in runs:
        value = r['metrics'].get(PRIMARY[r['kind']], math.nan)
        if math.isfinite(value):
            best[r['kind']] = max(best.get(r['kind'], value), value)
    collapsed = []
    for r in runs:
        metric = PRIMARY[r['kind']]
        why = None
        if metric in r['metrics'] and r['kind'] in best:
            why = collapse_reason(metric, float(r['metrics'][metric]),
                                  best[r['kind']], loss_change(r['dir']))
        r['collapsed'], r['collapse_reason'] = why is not None, why or ''
        if why is not None:
            collapsed.append(r)
    return collapsed


def rule(kinds: Iterable[str]) -> str:
    """The rule in words, for the tables of ``kinds``."""
    floors = ', '.join(f'{METRIC_LABELS[PRIMARY[k]]} {FLOORS[PRIMARY[k]]:g}'
                       for k in dict.fromkeys(kinds))
    return ('A run is marked collapsed when its primary metric is below '
            f'the larger of a floor ({floors}) and {RELATIVE_FLOOR:.0%} of '
            'the best run\'s, while its training loss fell (first against '
            'last quarter of the logged losses); a collapsed run is left '
            'out of the mean.')
