"""The main job on your own data (``tools/quickstart.py --data OUT``), as
planned by :mod:`.quickstart_data`: the learning-rate sweep on a split of
the training set beside the FCMAE pre-training, then every start and seed
at its rate, tested on the validation split; then the table, the pictures
and the loss curves, the same way as the synthetic main job
(:func:`.quickstart_run.finish_job`)."""
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

from mmconvnextv2.utils import write_atomically, write_json

from . import payoff
from .quickstart import SCORE_THR
from .quickstart_collapse import rule
from .quickstart_data import (DataPlan, main_tasks, run_dir, run_name,
                              sweep_tasks)
from .quickstart_picture_checks import (reconstruction_pictures,
                                        result_drawing)
from .quickstart_pictures import PictureSet, score_caption
from .quickstart_report import MODELS, START_LABELS
from .quickstart_run import finish_job
from .quickstart_sweep import SWEEP_HEADER, score_rows

__all__ = ['run_sweep', 'choose_rates', 'data_notes', 'run_data_job']


def _budgets(tasks: List[payoff.Downstream]) -> List[int]:
    return sorted({b for t in tasks for b in t.budgets})


def run_sweep(plan: DataPlan, jobs: int = 2, quiet: bool = False
              ) -> Optional[Dict]:
    """The sweep's runs (none when every rate is given), then each swept
    start's best rate by the mean of the task's headline metrics on
    sweep-val; writes ``lr_sweep.md`` / ``lr_sweep.json``. Returns
    ``best`` (start -> rate), ``table``, ``wall_s``, ``pretrain``."""
    tasks = sweep_tasks(plan)
    if not tasks:
        return None
    study = payoff.run_study(
        plan.written.fcmae_config, tasks, _budgets(tasks), [plan.seed],
        plan.work, (), plan.seed, jobs, quiet)
    rows = [(plan.task, s.name, f'sweep/{s.name}', s.budget)
            for s in plan.starts if s.lr is None]
    lines, best, edges = score_rows(study['runs'], rows)
    best = {key.split('_', 1)[1]: lr for key, lr in best.items()}
    table = '\n'.join(SWEEP_HEADER + lines)
    note = (f'{plan.sweep.describe()}; {plan.sweep_iters} of the '
            f'{plan.iters} fine-tuning iterations, seed {plan.seed}; the '
            'score is the mean of the task\'s headline metrics on '
            'sweep-val; rates: the config\'s '
            f'{plan.base_lr:g} times 2 to the powers of the grid. '
            '"(grid edge)": the best rate is the grid\'s smallest or largest.')
    write_atomically(osp.join(plan.work, 'lr_sweep.md'),
                     f'# Learning-rate sweep on a split of the training '
                     f'set\n\n{table}\n\n{note}\n')
    record = dict(best=best, grid=plan.grid, table=table, note=note,
                  edges={k.split('_', 1)[1]: v for k, v in edges.items()},
                  split=dict(train=plan.sweep.train, val=plan.sweep.val,
                             grouped=plan.sweep.grouped,
                             files=plan.sweep.files),
                  iters=plan.sweep_iters, runs=study['runs'],
                  wall_s=study['wall_s'], pretrain=study['pretrain'])
    write_json(osp.join(plan.work, 'lr_sweep.json'), record)
    print('\n' + table + f'\n\nwrote {plan.work}/lr_sweep.md')
    return record


def choose_rates(plan: DataPlan, sweep: Optional[Dict]
                 ) -> Tuple[Dict[str, float], Dict[str, str]]:
    """Each start's rate, and where it came from (``given``, ``sweep``)."""
    rates, source = {}, {}
    for start in plan.starts:
        given = start.lr is not None
        rates[start.name] = start.lr if given else sweep['best'][start.name]
        source[start.name] = 'given' if given else 'sweep'
    return rates, source


def data_notes(results: Dict) -> List[str]:
    """The notes under the table of the main job on your data."""
    pre, times = results['pretrain_images'], results['times']
    extra = (f' + {pre["unlabelled"]} unlabelled from '
             f'{results["unlabelled"]}' if pre['unlabelled'] else '')
    rates = '; '.join(
        f'{name} {s["lr"]:g} ({s["lr_from"]})'
        + (f', from {s["init"]}' if s.get('init') else '')
        for name, s in results['starts'].items())
    seeds = ', '.join(map(str, results['seeds']))
    sweep = (f' The sweep: lr_sweep.md ({results["sweep_split"]}).'
             if results['sweep_split'] else '')
    classes = len(results['classes'])
    return [
        f'Data: {results["data"]} ({results["task"]}, {classes} '
        f'class{"es" if classes > 1 else ""}): {results["splits"]["train"]} '
        f'training and {results["splits"]["val"]} validation images; every '
        'run is tested once on the validation images.',
        f'FCMAE pre-training: {results["budget"]} iterations on '
        f'{pre["total"]} images ({pre["train"]} training images{extra}; no '
        f'validation image, no label), seed {results["pretrain_seed"]}, '
        f'once for every fine-tuning seed ({seeds}); fine-tuning: '
        f'{results["iters"]} iterations per run.',
        f'Learning rates: {rates}.{sweep}',
        rule([results['task']]),
        f'Times: configs and pre-flight {times["configs_s"]:.0f} s; sweep '
        f'{times["sweep_s"]:.0f} s (with the pre-training beside it); '
        f'pre-training {times["pretrain_s"]:.0f} s (when it ran); '
        f'fine-tuning and tests {times["finetune_s"]:.0f} s; total '
        f'{results["total_s"]:.0f} s (stages reused from an earlier run '
        'count 0 s).']


def _picture_name(task: str) -> str:
    return {'det': 'det_results.jpg', 'seg': 'seg_results.png',
            'cls': 'cls_results.png'}[task]


def _pictures(plan: DataPlan, rates: Dict[str, float], seed: int
              ) -> List[PictureSet]:
    runs = {START_LABELS[s.name]: run_dir(plan, s.name, rates[s.name], seed)
            for s in plan.starts}
    name = _picture_name(plan.task)
    if plan.task == 'cls':
        return [PictureSet(name, runs, ground_truth=False,
                           caption='ground truth and prediction written on '
                           'each image')]
    return [PictureSet(name, runs, caption=(
        score_caption(SCORE_THR if plan.task == 'det' else None)))]


def run_data_job(plan: DataPlan, jobs: int = 2, quiet: bool = False,
                 start: Optional[float] = None,
                 configs_s: float = 0.) -> Dict:
    """The sweep (if a rate is not given) beside the pre-training, the
    fine-tuning of every start and seed, the reconstruction picture, loss
    curves, result pictures and the table; prints the table, returns the
    results (also in ``results.json``). ``configs_s``: the seconds the plan
    took (configs, lists, pre-flight)."""
    start = time.time() if start is None else start
    sweep = run_sweep(plan, jobs, quiet)
    rates, source = choose_rates(plan, sweep)
    tasks = main_tasks(plan, rates)
    show_dir = result_drawing(plan.info, _picture_name(plan.task))
    study = payoff.run_study(
        plan.written.fcmae_config, tasks, _budgets(tasks), plan.seeds,
        plan.work, (), plan.seed, jobs, quiet, show_dir=show_dir)
    pretrain = study['pretrain']
    fcmae_ckpt = pretrain['checkpoints'][str(plan.budget)]
    from mmengine.config import Config
    crop = Config.fromfile(plan.written.fcmae_config).crop_size
    recon = reconstruction_pictures(plan.work, plan.written.fcmae_config,
                                    fcmae_ckpt, plan.info, crop, plan.bands)
    by_name = {(r['task'], r['seed']): r for r in study['runs']}
    runs = {f'{s.name}_s{seed}': dict(
        by_name[(run_name(s.name, rates[s.name]), seed)], kind=plan.task,
        start=s.name, dir=run_dir(plan, s.name, rates[s.name], seed))
        for s in plan.starts for seed in plan.seeds}
    several = len(plan.seeds) > 1
    panels = [(f'{MODELS[plan.task]} fine-tuning (total loss)', {
        START_LABELS[s.name] + (f', seed {seed}' if several else ''):
        run_dir(plan, s.name, rates[s.name], seed) for s in plan.starts
        for seed in plan.seeds})]
    results = dict(
        data=plan.info.root, task=plan.task, arch=plan.arch,
        classes=list(plan.info.classes), splits=plan.info.splits,
        configs=plan.written._asdict(), seeds=plan.seeds,
        pretrain_seed=plan.seed, budget=plan.budget, iters=plan.iters,
        pretrain_images=plan.pretrain_images, unlabelled=plan.unlabelled,
        starts={s.name: dict(lr=rates[s.name], lr_from=source[s.name],
                             budget=s.budget, init=s.init)
                for s in plan.starts},
        sweep_split=plan.sweep.describe() if sweep else '',
        sweep_best=sweep['best'] if sweep else {},
        runs=runs, fcmae_checkpoint=fcmae_ckpt, smoke=plan.smoke,
        times=dict(configs_s=configs_s,
                   sweep_s=sweep['wall_s'] if sweep else 0.,
                   pretrain_s=pretrain.get('seconds', 0.),
                   finetune_s=study['wall_s']))
    name = osp.basename(plan.info.root)
    finish_job(plan.work, results, f'Quickstart results: {name} '
               f'({MODELS[plan.task]}, ConvNeXt V2-{plan.arch})',
               data_notes, panels, _pictures(plan, rates, plan.seeds[0])
               if show_dir else [], recon, start)
    return results
