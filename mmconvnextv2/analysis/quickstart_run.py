"""The quickstart's runs (``tools/quickstart.py``): the main job of
:mod:`.quickstart`'s plan with its table and pictures, and the seeded payoff
study of the same setting."""
import math
import os
import os.path as osp
import shutil
import time
from typing import Dict, Optional

from . import payoff
from .quickstart import (FCMAE_CFG, PAYOFF_SEEDS, STARTS, TASKS, downstream,
                         make_data, payoff_budgets, pretrain_budget, run_dirs)
from .quickstart_pictures import (compare_pictures, plot_losses,
                                  visualise_reconstruction)
from .quickstart_report import write_table
from .runner import data_options

__all__ = ['run_payoff', 'run_main_job', 'prepare_work_dir']


def run_payoff(work: str, data_root: str, seed: int, smoke: bool,
               jobs: int, quiet: bool) -> Dict:
    """The seeded payoff study of this setting
    (:data:`.quickstart.PAYOFF_BUDGETS`, :data:`.quickstart.PAYOFF_SEEDS`)
    in ``work``, reusing the main job's runs; writes
    and prints its outputs."""
    make_data(data_root, seed, smoke)
    budgets = payoff_budgets(pretrain_budget(smoke))
    study = payoff.run_study(
        FCMAE_CFG, downstream(data_root, smoke), budgets, PAYOFF_SEEDS, work,
        data_options('fcmae', data_root), seed, jobs, quiet, show_dir='vis')
    print('\n' + payoff.write_outputs(study, work))
    print(f'\nwrote {work}/payoff.md, payoff.json and payoff.png')
    return study


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
        FCMAE_CFG, downstream(data_root, smoke), [0, budget], [seed], work,
        data_options('fcmae', data_root), seed, jobs, quiet, show_dir='vis',
        keep_budgets=payoff_budgets(budget))
    fcmae_ckpt = study['pretrain']['checkpoints'][str(budget)]
    recon = visualise_reconstruction(work, data_root, fcmae_ckpt)
    by_key = {(r['task'], r['budget']): r for r in study['runs']}
    runs = {f'{task}_{init}': by_key[(task, b)] for task in TASKS
            for init, b in zip(STARTS, (budget, 0))}
    results = dict(runs=runs, seed=seed, budget=budget,
                   fcmae_s=study['pretrain']['train_s'], data_s=data_s,
                   fcmae_checkpoint=fcmae_ckpt, smoke=smoke,
                   total_s=time.time() - start)
    dirs = run_dirs(work, budget, seed)
    plot_losses(work, dirs, osp.join(work, 'loss_curves.png'))
    results['pictures'] = [recon, osp.join(work, 'loss_curves.png')] + \
        compare_pictures(work, dirs)
    print('\n' + write_table(work, results))
    bad = [k for k, r in runs.items() for v in r['metrics'].values()
           if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        print(f'warning: non-finite metrics in {bad}')
    print(f'\nwrote {work}/results.md and results.json; pictures:')
    for picture in results['pictures']:
        print(f'  {picture}')
    print(f'logs: {work}/*/tool.log (pre-training: {work}/pretrain/tool.log)')
    return results


def prepare_work_dir(work: str, fresh: bool) -> None:
    """Create ``work``; with ``fresh``, delete it first."""
    if fresh and osp.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
