"""The quickstart's table: ``results.json`` and ``results.md`` (one row
per model, start and metric, with the train and test times)."""
import os.path as osp
from typing import Dict

from mmconvnextv2.utils import write_json

from .quickstart import STARTS, TASKS

__all__ = ['METRICS', 'write_table']

#: The metrics of the table per task: label -> key of the test's metrics.
METRICS = {'det': {'bbox mAP': 'coco/bbox_mAP', 'segm mAP': 'coco/segm_mAP'},
           'seg': {'mIoU': 'mIoU'}}


def write_table(work: str, results: Dict) -> str:
    """``results.json`` and ``results.md`` in ``work``; returns the
    Markdown table."""
    write_json(osp.join(work, 'results.json'), results)
    lines = ['| model | init | metric | value | train (s) | test (s) |',
             '|---|---|---|---|---|---|']
    for task, (title, _) in TASKS.items():
        for init in STARTS:
            run_ = results['runs'][f'{task}_{init}']
            for label, key in METRICS[task].items():
                value = run_['metrics'].get(key, float('nan'))
                lines.append(f'| {title} | {init} | {label} | {value:.4f} | '
                             f'{run_["train_s"]:.0f} | {run_["test_s"]:.0f} |')
    lines.append(f'\nSeed {results["seed"]}; FCMAE pre-training: '
                 f'{results["budget"]} iterations, {results["fcmae_s"]:.0f} s '
                 f'(beside the random-init runs); data: '
                 f'{results["data_s"]:.0f} s; total: {results["total_s"]:.0f} s '
                 '(stages reused from an earlier run count 0 s).')
    table = '\n'.join(lines)
    with open(osp.join(work, 'results.md'), 'w') as f:
        f.write('# Quickstart results (synthetic data, ConvNeXt V2-atto, CPU)\n\n'
                + table + '\n')
    return table
