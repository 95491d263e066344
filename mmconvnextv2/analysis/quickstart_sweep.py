"""The quickstart's learning-rate sweep (``tools/quickstart.py --lr-sweep``):
fine-tune both starts of each task with every rate of a grid, on a data set
of its own (seed :data:`SWEEP_DATA_SEED`, its validation split, never the
one the quickstart's table reports), and pick each start's best mean over
the fine-tuning seeds; while a best mean sits at an edge of the grid, the
grid grows one step past it. What it chose and why: the quickstart's
:data:`.quickstart.LR`, and docs/user_guides/payoff.md ("The setting").
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from . import payoff
from .quickstart import FCMAE_CFG, TASKS, finetune_options, lr_option, \
    make_data
from .runner import data_options
from .summary import mean_std

__all__ = ['LR_GRID', 'SWEEP_DATA_SEED', 'SWEEP_SEEDS', 'SWEEP_HEADER',
           'sweep_scores', 'beyond_edge', 'score_rows', 'sweep_table',
           'lr_sweep']

#: The rates tried first, per task.
LR_GRID = {'det': (1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3),
           'seg': (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)}
#: The seed of the sweep's own data set.
SWEEP_DATA_SEED = 100
#: Fine-tuning seeds of each rate in the sweep.
SWEEP_SEEDS = (0, 1)


def sweep_scores(runs: List[Dict], task: str, budget: int
                 ) -> Dict[float, Dict]:
    """Learning rate -> :func:`.summary.mean_std` over seeds of the mean of
    the task's headline metrics (mAP in 0-1, mIoU in 0-100: one task's
    metrics share a scale)."""
    by_lr: Dict[float, List[float]] = {}
    for r in runs:
        if r['task'].startswith(task + '_lr') and r['budget'] == budget:
            lr = float(r['task'].split('_lr')[1])
            by_lr.setdefault(lr, []).append(
                sum(r['headline'].values()) / len(r['headline']))
    return {lr: mean_std(v) for lr, v in sorted(by_lr.items())}


def beyond_edge(scores: Dict[float, Dict]) -> Optional[float]:
    """The next rate past the grid's edge when the best mean sits on it
    (one more grid step: the ratio of the two rates at that edge); None
    when rates on both sides of the best were tried."""
    rates = sorted(scores)
    best = max(rates, key=lambda lr: scores[lr]['mean'])
    if len(rates) < 2 or rates[0] < best < rates[-1]:
        return None
    if best == rates[0]:
        return rates[0] * rates[0] / rates[1]
    return rates[-1] * rates[-1] / rates[-2]


SWEEP_HEADER = ['| task | start | score by learning rate (mean ± std, n) '
                '| best |', '|---|---|---|---|']


def score_rows(runs: List[Dict], rows: Sequence[Tuple[str, str, str, int]]
               ) -> Tuple[List[str], Dict[str, float],
                          Dict[str, Optional[float]]]:
    """The sweep table's rows, one per ``(task label, start, run-name
    prefix, budget)`` (the runs named ``<prefix>_lr<rate>``), each start's
    best learning rate and the rate past a grid edge (:func:`beyond_edge`),
    both keyed ``<task label>_<start>``."""
    lines, best, edges = [], {}, {}
    for task, init, prefix, budget in rows:
        key = f'{task}_{init}'
        scores = sweep_scores(runs, prefix, budget)
        best[key] = max(scores, key=lambda lr: scores[lr]['mean'])
        edges[key] = beyond_edge(scores)
        lines.append(f'| {task} | {init} | ' + ', '.join(
            f'{lr:g}: {s["mean"]:.4f} ± {s["std"]:.4f} ({s["n"]})'
            for lr, s in scores.items())
            + f' | {best[key]:g}'
            + (' (grid edge)' if edges[key] is not None else '') + ' |')
    return lines, best, edges


def sweep_table(runs: List[Dict], budget: int
                ) -> Tuple[str, Dict[str, float], Dict[str, List[float]]]:
    """The sweep's Markdown table (mean +- std over seeds per rate), each
    start's best learning rate and the rates still to try past a grid
    edge (``{task: [rate, ...]}``)."""
    rows = [(task, init, task, b) for task in TASKS
            for init, b in (('random', 0), ('fcmae', budget))]
    lines, best, edges = score_rows(runs, rows)
    beyond: Dict[str, List[float]] = {}
    for task, init, _, _ in rows:
        edge = edges[f'{task}_{init}']
        if edge is not None:
            beyond.setdefault(task, []).append(edge)
    return '\n'.join(SWEEP_HEADER + lines), best, beyond


def lr_sweep(work: str, data_root: str, budget: int, smoke: bool, jobs: int,
             quiet: bool, grid: Optional[Dict[str, Sequence[float]]] = None,
             max_extensions: int = 2) -> Dict:
    """Fine-tune both starts with every learning rate of ``grid`` (default
    :data:`LR_GRID`), seeds :data:`SWEEP_SEEDS`, on the data of seed
    :data:`SWEEP_DATA_SEED` in ``data_root`` (its own unlabelled pool and
    pre-training); while a start's best mean is at an edge of the grid,
    extend the grid one step past it (at most ``max_extensions`` times; none
    in smoke mode). Writes each start's best on that validation split to
    ``work/lr_sweep.md``."""
    make_data(data_root, SWEEP_DATA_SEED, smoke)
    grid = {task: list(rates) for task, rates in (grid or LR_GRID).items()}
    limit = 0 if smoke else max_extensions
    for extension in range(limit + 1):
        tasks = [payoff.Downstream(
            f'{task}_lr{lr:g}', TASKS[task][1],
            finetune_options(task, data_root, smoke) + [lr_option(lr)])
            for task in TASKS for lr in grid[task]]
        study = payoff.run_study(
            FCMAE_CFG, tasks, [0, budget], SWEEP_SEEDS, work,
            data_options('fcmae', data_root), SWEEP_DATA_SEED, jobs, quiet)
        table, best, beyond = sweep_table(study['runs'], budget)
        if not beyond or extension == limit:
            break
        for task, rates in beyond.items():
            grid[task] = sorted(set(grid[task]) | {float(f'{r:.3g}')
                                                    for r in rates})
        print('best rate at a grid edge; trying as well: ' + ', '.join(
            f'{task} {r:.3g}' for task, rates in beyond.items()
            for r in sorted(set(rates))))
    payoff.write_outputs(study, work)
    with open(osp.join(work, 'lr_sweep.md'), 'w') as f:
        f.write('# Learning-rate sweep (data seed '
                f'{SWEEP_DATA_SEED}, validation split, fine-tuning seeds '
                f'{", ".join(map(str, SWEEP_SEEDS))})\n\n{table}\n')
    print('\n' + table + f'\n\nwrote {work}/lr_sweep.md')
    return dict(study=study, best=best, grid=grid)
