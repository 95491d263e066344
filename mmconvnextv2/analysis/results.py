"""Reading what the tools leave in a work dir: the test metrics, the loss
history, the checkpoint the run ended with."""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmconvnextv2.utils import read_json, read_pointer

__all__ = ['HEADLINE_METRICS', 'test_metrics', 'headline', 'loss_history',
           'last_checkpoint']

#: The metrics a table reports, where a test writes them (first found win).
HEADLINE_METRICS = ('coco/bbox_mAP', 'coco/segm_mAP', 'mIoU',
                    'accuracy/top1')


def test_metrics(test_dir: str) -> Optional[Dict[str, float]]:
    """Metrics written by tools/test.py (mmengine's ``<stamp>/<stamp>.json``,
    the newest); None before a test ran."""
    files = sorted(glob.glob(osp.join(test_dir, '2*', '2*.json')))
    return read_json(files[-1]) if files else None


def headline(metrics: Dict[str, float],
             keys: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """The metrics to report: ``keys`` if given, else those of
    :data:`HEADLINE_METRICS` present, else every number.

    Raises:
        KeyError: a wanted metric is not in ``metrics``.
    """
    wanted = keys or [k for k in HEADLINE_METRICS if k in metrics]
    if not wanted:
        wanted = [k for k, v in metrics.items() if isinstance(v, (int, float))]
    missing = [k for k in wanted if k not in metrics]
    if missing:
        raise KeyError(f'metrics {missing} not in the test results '
                       f'({sorted(metrics)})')
    return {k: float(metrics[k]) for k in wanted}


def loss_history(work_dir: str) -> Dict[str, List[float]]:
    """``{'iter': [...], 'loss': [...]}`` from mmengine's
    ``<stamp>/vis_data/scalars.json`` of a run (its newest log)."""
    files = sorted(glob.glob(osp.join(work_dir, '2*', 'vis_data',
                                      'scalars.json')))
    iters: List[float] = []
    losses: List[float] = []
    for path in files[-1:]:
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'loss' in row and 'iter' in row:
                    iters.append(row['iter'])
                    losses.append(row['loss'])
    return dict(iter=iters, loss=losses)


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint mmengine's ``last_checkpoint`` pointer names, if that
    file exists."""
    return read_pointer(work_dir, must_exist=True)
