"""The quickstart's runs (``tools/quickstart.py``): the main job of
:mod:`.quickstart`'s plan with its table and pictures, and the seeded payoff
study of the same setting."""
import math
import os
import os.path as osp
import shutil
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from . import payoff
from .quickstart import (FCMAE_CFG, PAYOFF_SEEDS, SCORE_THR, STARTS, TASKS,
                         downstream, make_data, payoff_budgets,
                         pretrain_budget, run_dirs)
from .quickstart_collapse import mark_collapses, rule
from .quickstart_pictures import (PictureSet, compare_pictures, plot_losses,
                                  score_caption, visualise_reconstruction)
from .quickstart_report import START_LABELS, summaries, write_table
from .runner import data_options, say

__all__ = ['run_payoff', 'synthetic_notes', 'finish_job', 'run_main_job',
           'prepare_work_dir']


def run_payoff(work: str, data_root: str, seed: int, smoke: bool,
               jobs: int, quiet: bool) -> Dict:
    """The seeded payoff study of this setting
    (:data:`.quickstart.PAYOFF_BUDGETS`, :data:`.quickstart.PAYOFF_SEEDS`)
    in ``work``, reusing the main job's runs; writes
    and prints its outputs."""
    make_data(data_root, seed, smoke)
    budgets = payoff_budgets(pretrain_budget(smoke))
    study = payoff.run_study(
        FCMAE_CFG, downstream(data_root, smoke, pictures=True), budgets,
        PAYOFF_SEEDS, work,
        data_options('fcmae', data_root), seed, jobs, quiet, show_dir='vis')
    print('\n' + payoff.write_outputs(study, work))
    print(f'\nwrote {work}/payoff.md, payoff.json and payoff.png')
    return study


def synthetic_notes(results: Dict) -> List[str]:
    """The main job's notes under its table: the collapse rule, then the
    seed and the time of each stage."""
    return [rule(TASKS), (
        f'Seed {results["seed"]}; FCMAE pre-training: {results["budget"]} '
        f'iterations, {results["fcmae_s"]:.0f} s (beside the random-init '
        f'runs); data: {results["data_s"]:.0f} s; total: '
        f'{results["total_s"]:.0f} s (stages reused from an earlier run '
        'count 0 s).')]


def finish_job(work: str, results: Dict, title: str,
               notes: Callable[[Dict], List[str]],
               panels: Sequence[Tuple[str, Dict[str, str]]],
               sets: Sequence[PictureSet], pictures: Sequence[str] = (),
               start: Optional[float] = None) -> str:
    """What every main job ends with: each run judged
    (:func:`.quickstart_collapse.mark_collapses`), the loss curves
    (``panels``), the comparison pictures (``sets``), ``total_s`` (since
    ``start``) and the table with ``notes(results)``; printed with a
    warning line per collapsed run or non-finite metric, the files written
    and the logs. Returns the table."""
    runs = list(results['runs'].values())
    collapsed = mark_collapses(runs)
    results['summary'] = summaries(runs)
    losses = osp.join(work, 'loss_curves.png')
    plot_losses(work, panels, losses)
    results['pictures'] = list(pictures) + [losses] + \
        compare_pictures(work, sets)
    if start is not None:
        results['total_s'] = time.time() - start
    table = write_table(work, results, title, notes(results))
    print('\n' + table)
    for r in collapsed:
        say(f'warning: {r["kind"]} {r["start"]} start, seed {r["seed"]}, '
            f'collapsed: {r["collapse_reason"]}; left out of the mean')
    bad = [f'{r["kind"]} {r["start"]} seed {r["seed"]}' for r in runs
           for v in r['metrics'].values()
           if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        say(f'warning: non-finite metrics in {sorted(set(bad))}')
    print(f'\nwrote {work}/results.md and results.json; pictures:')
    for picture in results['pictures']:
        print(f'  {picture}')
    print(f'logs: {work}/*/tool.log (pre-training: {work}/pretrain/tool.log)')
    return table


def run_main_job(work: str, data_root: str, seed: int = 0,
                 smoke: bool = False, jobs: int = 2, quiet: bool = False,
                 start: Optional[float] = None) -> Dict:
    """Data, pre-training beside the random-init runs, the FCMAE-init runs,
    the reconstruction picture, loss curves, result pictures and the table
    (``results.json``/``results.md``); prints the table, returns the
    results."""
    start = time.time() if start is None else start
    data_s = make_data(data_root, seed, smoke)
    budget = pretrain_budget(smoke)
    study = payoff.run_study(
        FCMAE_CFG, downstream(data_root, smoke, pictures=True), [0, budget],
        [seed], work, data_options('fcmae', data_root), seed, jobs, quiet,
        show_dir='vis', keep_budgets=payoff_budgets(budget))
    fcmae_ckpt = study['pretrain']['checkpoints'][str(budget)]
    recon = visualise_reconstruction(work, FCMAE_CFG, fcmae_ckpt, osp.join(
        data_root, 'coco', 'val'), 128)
    by_key = {(r['task'], r['budget']): r for r in study['runs']}
    dirs = run_dirs(work, budget, seed)
    runs = {f'{task}_{init}': dict(by_key[(task, b)], kind=task, start=init,
                                   dir=dirs[f'{task}_{init}'])
            for task in TASKS for init, b in zip(STARTS, (budget, 0))}
    results = dict(runs=runs, seed=seed, budget=budget,
                   fcmae_s=study['pretrain']['train_s'], data_s=data_s,
                   fcmae_checkpoint=fcmae_ckpt, smoke=smoke)
    panels = [(f'{TASKS[task][0]} fine-tuning (total loss)',
               {f'{init} init': dirs[f'{task}_{init}'] for init in STARTS})
              for task in TASKS]
    sets = [PictureSet(f'{task}_results.{ext}',
                       {START_LABELS[init]: dirs[f'{task}_{init}']
                        for init in STARTS},
                       caption=score_caption(SCORE_THR if task == 'det'
                                             else None))
            for task, ext in (('det', 'jpg'), ('seg', 'png'))]
    finish_job(work, results, 'Quickstart results (synthetic data, '
               'ConvNeXt V2-atto, CPU)', synthetic_notes, panels, sets,
               [recon], start)
    return results


def prepare_work_dir(work: str, fresh: bool) -> None:
    """Create ``work``; with ``fresh``, delete it first."""
    if fresh and osp.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
