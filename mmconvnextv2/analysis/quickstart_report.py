"""The quickstart's table, for the synthetic sets and for your own data:
``results.json`` and ``results.md``, a row per model, start and metric
(mean ± std over the fine-tuning seeds when there are several, each run's
row below), with the train and test times. A collapsed run
(:mod:`.quickstart_collapse`) is written as ``collapsed (why)``, never as a
score, and is left out of the mean."""
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmconvnextv2.utils import write_atomically, write_json

from .summary import mean_std

__all__ = ['MODELS', 'METRICS', 'START_LABELS', 'group_runs',
           'start_summary', 'summaries', 'summary_cell', 'write_table']

#: The model of each task.
MODELS = {'det': 'Mask R-CNN', 'seg': 'UperNet', 'cls': 'classifier'}
#: The metrics of the table per task: label -> key of the test's metrics.
METRICS = {'det': {'bbox mAP': 'coco/bbox_mAP', 'segm mAP': 'coco/segm_mAP'},
           'seg': {'mIoU': 'mIoU'},
           'cls': {'top-1': 'accuracy/top1'}}
#: How pictures and plots name each start.
START_LABELS = {'fcmae': 'FCMAE start', 'random': 'random start',
                'init': '--init start'}


def group_runs(runs: Sequence[Dict]) -> Dict[str, Dict[str, List[Dict]]]:
    """``{kind: {start: [runs by seed]}}``, kinds in :data:`METRICS`' order
    and starts in their first appearance."""
    groups: Dict[str, Dict[str, List[Dict]]] = {k: {} for k in METRICS}
    for r in runs:
        groups[r['kind']].setdefault(r['start'], []).append(r)
    return {k: {s: sorted(rs, key=lambda r: r.get('seed', 0))
                for s, rs in starts.items()}
            for k, starts in groups.items() if starts}


def _metrics_of(runs: Sequence[Dict], kind: str) -> Dict[str, str]:
    """The task's metrics that some run of it reports (all of them when
    none does)."""
    shown = {label: key for label, key in METRICS[kind].items()
             if any(key in r['metrics'] for r in runs)}
    return shown or dict(METRICS[kind])


def start_summary(runs: Sequence[Dict], key: str) -> Optional[Dict]:
    """:func:`.summary.mean_std` of metric ``key`` over the runs not
    collapsed (a missing value is nan), plus ``collapsed`` (how many were
    left out); None when every run collapsed."""
    kept = [r for r in runs if not r.get('collapsed')]
    if not kept:
        return None
    summary = mean_std([float(r['metrics'].get(key, math.nan))
                        for r in kept])
    return dict(summary, collapsed=len(runs) - len(kept))


def summaries(runs: Sequence[Dict]) -> Dict[str, Dict[str, Dict]]:
    """``{kind: {start: {metric label: start_summary}}}``."""
    out: Dict[str, Dict[str, Dict]] = {}
    for kind, starts in group_runs(runs).items():
        metrics = _metrics_of([r for rs in starts.values() for r in rs],
                              kind)
        out[kind] = {start: {label: start_summary(rs, key)
                             for label, key in metrics.items()}
                     for start, rs in starts.items()}
    return out


def summary_cell(runs: Sequence[Dict], key: str) -> str:
    """``0.2500`` (one run), ``0.2500 ± 0.0100 (n=2)`` (several), with the
    collapsed runs left out and counted; ``collapsed (why)`` when every run
    collapsed."""
    summary = start_summary(runs, key)
    if summary is None:
        if len(runs) == 1:
            return f'collapsed ({runs[0]["collapse_reason"]})'
        return f'all {len(runs)} runs collapsed (each run\'s row says why)'
    cell = f'{summary["mean"]:.4f}' if summary['n'] == 1 and len(runs) == 1 \
        else '{mean:.4f} ± {std:.4f} (n={n})'.format(**summary)
    if summary['collapsed']:
        cell += f'; {summary["collapsed"]} collapsed run(s) left out'
    return cell


def _mean(runs: Sequence[Dict], key: str) -> float:
    return sum(r[key] for r in runs) / len(runs)


def _run_rows(groups: Dict[str, Dict[str, List[Dict]]]) -> List[str]:
    lines = ['| model | init | seed | metrics | train (s) | test (s) |',
             '|---|---|---|---|---|---|']
    for kind, starts in groups.items():
        metrics = _metrics_of([r for rs in starts.values() for r in rs],
                              kind)
        for start, runs in starts.items():
            for r in runs:
                shown = f'collapsed ({r["collapse_reason"]})' \
                    if r.get('collapsed') else ', '.join(
                        f'{label} {r["metrics"].get(key, math.nan):.4f}'
                        for label, key in metrics.items())
                lines.append(f'| {MODELS[kind]} | {start} | {r["seed"]} | '
                             f'{shown} | {r["train_s"]:.0f} | '
                             f'{r["test_s"]:.0f} |')
    return lines


def write_table(work: str, results: Dict, title: str,
                notes: Sequence[str] = ()) -> str:
    """``results.json`` (``results`` as it is) and ``results.md`` (``#
    title``, the table, ``notes`` as paragraphs) in ``work``. ``results``
    holds ``runs`` (a dict of runs with ``kind``, ``start``, ``seed``,
    ``metrics``, ``train_s``, ``test_s`` and, once judged, ``collapsed``
    and ``collapse_reason``). Returns the Markdown below the title."""
    write_json(osp.join(work, 'results.json'), results)
    groups = group_runs(list(results['runs'].values()))
    lines = ['| model | init | metric | value | train (s) | test (s) |',
             '|---|---|---|---|---|---|']
    several = False
    for kind, starts in groups.items():
        metrics = _metrics_of([r for rs in starts.values() for r in rs],
                              kind)
        for start, runs in starts.items():
            several = several or len(runs) > 1
            for label, key in metrics.items():
                lines.append(
                    f'| {MODELS[kind]} | {start} | {label} | '
                    f'{summary_cell(runs, key)} | '
                    f'{_mean(runs, "train_s"):.0f} | '
                    f'{_mean(runs, "test_s"):.0f} |')
    if several:
        lines += ['', 'Each run:', ''] + _run_rows(groups)
    table = '\n'.join(lines + [f'\n{note}' for note in notes])
    write_atomically(osp.join(work, 'results.md'),
                     f'# {title}\n\n{table}\n')
    return table
