"""The main job's plan: FCMAE pre-training -> Mask R-CNN + UperNet
fine-tuning (FCMAE init vs random init) -> COCO mAP / mIoU, with pictures,
on the synthetic data sets (ConvNeXt V2-atto, CPU), run as a payoff study
(:mod:`.payoff`) with two budgets and one seed; also the seeded payoff
study of this setting and the learning-rate sweep. ``tools/quickstart.py``
is its command line."""
import glob
import math
import os
import os.path as osp
import shutil
import time
from typing import Dict, List, Optional, Sequence

from mmconvnextv2.utils import write_json

from . import payoff
from .results import loss_history
from .progress import ProgressBoard
from .runner import ToolRunner, data_options, repo_root
from .summary import mean_std, pyplot

__all__ = ['FCMAE_CFG', 'DET_CFG', 'SEG_CFG', 'TASKS', 'METRICS', 'DATA',
           'SMOKE_DATA', 'LR', 'LR_GRID', 'SWEEP_DATA_SEED', 'SWEEP_SEEDS',
           'PAYOFF_BUDGETS',
           'PAYOFF_SEEDS', 'finetune_options', 'lr_option', 'downstream',
           'PRETRAIN_ITERS', 'config_length', 'pretrain_budget',
           'payoff_budgets', 'run_dirs', 'sweep_scores',
           'beyond_edge', 'sweep_table', 'lr_sweep', 'run_payoff', 'run_main_job',
           'write_table', 'prepare_work_dir', 'make_data']

FCMAE_CFG = 'configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py'
DET_CFG = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'
SEG_CFG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'
METRICS = {'det': {'bbox mAP': 'coco/bbox_mAP', 'segm mAP': 'coco/segm_mAP'},
           'seg': {'mIoU': 'mIoU'}}
TASKS = {'det': ('Mask R-CNN', DET_CFG), 'seg': ('UperNet', SEG_CFG)}
#: The synthetic data of the main job: few labels, many unlabelled images.
DATA = dict(num_train=32, num_val=32, num_unlabelled=1024)
SMOKE_DATA = dict(num_train=8, num_val=2, num_unlabelled=8)
#: Fine-tuning learning rate per task and start (AdamW; the COCO / ADE20K
#: recipes' own, for batch 16, are 2e-4 for Mask R-CNN and 1e-4 for
#: UperNet), chosen by ``--lr-sweep`` on another data set (seed
#: :data:`SWEEP_DATA_SEED`): its validation split, never the one the table
#: reports; the mean over :data:`SWEEP_SEEDS` of each task's headline
#: metrics, every optimum with a worse rate on both sides.
#: Measured 2026-12-01 (``work_dirs/lr_sweep/lr_sweep.md``): Mask R-CNN
#: random 1.6e-3 (0.245 vs 0.229 at 8e-4, 0.098 at 3.2e-3), FCMAE 8e-4 (0.333
#: vs 0.258 at 4e-4, 0.293 at 1.6e-3); UperNet (400 iterations) random 3e-2
#: (56.7 +- 22.1 vs 56.5 at 1e-2, 28.0 at 9e-2), FCMAE 1e-2 (79.0 vs 71.3 at
#: 3e-3, 70.7 at 3e-2).
LR = {'det': {'random': 1.6e-3, 'fcmae': 8e-4},
      'seg': {'random': 3e-2, 'fcmae': 1e-2}}
LR_GRID = {'det': (1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3),
           'seg': (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)}
SWEEP_DATA_SEED = 100
#: Fine-tuning seeds of each rate in the sweep.
SWEEP_SEEDS = (0, 1)
#: FCMAE pre-training iterations of the main job (the config's cosine
#: schedule, 1000 iterations, stretched to this length): in the payoff study
#: of the 1000-iteration schedule, FCMAE-500 matched FCMAE-1000 on every
#: metric (bbox 0.370 vs 0.367, segm 0.396 vs 0.402, mIoU 64.3 vs 61.2,
#: 3 seeds) at half the time.
PRETRAIN_ITERS = 500
#: The payoff study of this setting (``--payoff``): budgets and seeds.
PAYOFF_BUDGETS = (0, 125, 250, 500)  # of PRETRAIN_ITERS; scaled in smoke mode
PAYOFF_SEEDS = (0, 1, 2)
#: The two starts of each task, with the budget (0 or the largest) each
#: stands for.
STARTS = ('fcmae', 'random')


def finetune_options(task: str, data_root: str, smoke: bool) -> List[str]:
    """Data roots, and no validation during training: tools/test.py
    evaluates each run once, on the validation split, after training."""
    options = data_options(task, data_root) + ['train_cfg.val_begin=1000000']
    if smoke:
        options += ['train_cfg.max_iters=2',
                    'default_hooks.checkpoint.interval=2',
                    'default_hooks.logger.interval=1']
    return options


def lr_option(lr: float) -> str:
    """The ``--cfg-options`` item setting the optimizer's learning rate."""
    return f'optim_wrapper.optimizer.lr={lr:g}'


def downstream(data_root: str, smoke: bool) -> List[payoff.Downstream]:
    """The study's tasks: each synthetic config with its data and the
    learning rate of each start (:data:`LR`)."""
    return [payoff.Downstream(
        task, config, finetune_options(task, data_root, smoke),
        random_options=[lr_option(LR[task]['random'])],
        fcmae_options=[lr_option(LR[task]['fcmae'])])
        for task, (_, config) in TASKS.items()]


def make_data(data_root: str, seed: int, smoke: bool) -> float:
    """The synthetic data of the main job (or its smoke size) in
    ``data_root``; returns the seconds it took."""
    from mmconvnextv2.datasets import make_synthetic_data
    start = time.time()
    make_synthetic_data(data_root, seed=seed,
                        **(SMOKE_DATA if smoke else DATA))
    return time.time() - start


def config_length(smoke: bool, config: str = FCMAE_CFG) -> int:
    """An FCMAE config's own length (2 iterations in smoke mode)."""
    if smoke:
        return 2
    from mmengine.config import Config
    return Config.fromfile(osp.join(repo_root(), config)).train_cfg.max_iters


def pretrain_budget(smoke: bool) -> int:
    """The main job's pre-training length, :data:`PRETRAIN_ITERS` (2
    iterations in smoke mode); the FCMAE config's schedule is stretched to
    it."""
    return 2 if smoke else PRETRAIN_ITERS


def payoff_budgets(budget: int) -> List[int]:
    """:data:`PAYOFF_BUDGETS` scaled to a pre-training of ``budget``
    iterations (the smoke mode's 2 included)."""
    return sorted({b * budget // PAYOFF_BUDGETS[-1] for b in PAYOFF_BUDGETS})


def run_dirs(work: str, budget: int, seed: int) -> Dict[str, str]:
    """Work dirs of the four runs, keyed ``<task>_<init>``."""
    return {f'{task}_{init}': osp.join(work, task, f'b{b}_s{seed}')
            for task in TASKS for init, b in zip(STARTS, (budget, 0))}


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


def sweep_table(runs: List[Dict], budget: int) -> tuple:
    """The sweep's Markdown table (mean +- std over seeds per rate), each
    start's best learning rate and the rates still to try past a grid
    edge (``{task: [rate, ...]}``)."""
    lines = ['| task | start | score by learning rate (mean ± std, n) | best |',
             '|---|---|---|---|']
    best, beyond = {}, {}
    for task in TASKS:
        for init, b in (('random', 0), ('fcmae', budget)):
            scores = sweep_scores(runs, task, b)
            best[f'{task}_{init}'] = max(
                scores, key=lambda lr: scores[lr]['mean'])
            edge = beyond_edge(scores)
            if edge is not None:
                beyond.setdefault(task, []).append(edge)
            lines.append(f'| {task} | {init} | ' + ', '.join(
                f'{lr:g}: {s["mean"]:.4f} ± {s["std"]:.4f} ({s["n"]})'
                for lr, s in scores.items())
                + f' | {best[f"{task}_{init}"]:g}'
                + (' (grid edge)' if edge is not None else '') + ' |')
    return '\n'.join(lines), best, beyond


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


def plot_losses(work: str, dirs: Dict[str, str], out: str) -> None:
    """Loss curves: the pre-training, then each task's two starts."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    curve = loss_history(osp.join(work, 'pretrain'))
    axes[0].plot(curve['iter'], curve['loss'], color='tab:purple')
    axes[0].set_title('FCMAE pre-training (masked-patch MSE)')
    for ax, task in zip(axes[1:], TASKS):
        for init, colour in zip(STARTS, ('tab:blue', 'tab:orange')):
            curve = loss_history(dirs[f'{task}_{init}'])
            ax.plot(curve['iter'], curve['loss'], color=colour,
                    label=f'{init} init')
        ax.set_title(f'{TASKS[task][0]} fine-tuning (total loss)')
        ax.legend()
    for ax in axes:
        ax.set_xlabel('iteration')
        ax.set_ylabel('loss')
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def _visualisations(run_dir: str, ext: str) -> Dict[str, str]:
    """File name -> path of the test visualisations of a run (ground truth
    left, prediction right, as mmdet's / mmseg's visualisers draw them)."""
    found = glob.glob(osp.join(run_dir, 'test', '**', 'vis', '**', f'*.{ext}'),
                      recursive=True)
    return {osp.basename(path): path for path in sorted(found)}


def compare_pictures(work: str, dirs: Dict[str, str], count: int = 3,
                     scale: int = 2) -> List[str]:
    """Per task, ``<task>_results.<ext>``: the first ``count`` validation
    images, a row each: ground truth | FCMAE start | random start."""
    from PIL import Image, ImageDraw
    written = []
    for task, ext in (('det', 'jpg'), ('seg', 'png')):  # mmdet / mmseg output
        fcmae = _visualisations(dirs[f'{task}_fcmae'], ext)
        random = _visualisations(dirs[f'{task}_random'], ext)
        names = [n for n in fcmae if n in random][:count]
        if not names:
            continue
        rows = [(Image.open(fcmae[n]).convert('RGB'),
                 Image.open(random[n]).convert('RGB')) for n in names]
        w, h = rows[0][0].width // 2, rows[0][0].height
        head = 22
        canvas = Image.new('RGB', (3 * w * scale, head + len(rows) * h * scale),
                           'white')
        draw = ImageDraw.Draw(canvas)
        for i, title in enumerate(('ground truth', 'FCMAE start',
                                   'random start')):
            draw.text((i * w * scale + 8, 5), title, fill='black')
        for r, (a, b) in enumerate(rows):
            tiles = (a.crop((0, 0, w, h)), a.crop((w, 0, 2 * w, h)),
                     b.crop((w, 0, 2 * w, h)))
            for c, tile in enumerate(tiles):
                canvas.paste(tile.resize((w * scale, h * scale), Image.NEAREST),
                             (c * w * scale, head + r * h * scale))
        out = osp.join(work, f'{task}_results.{ext}')
        canvas.save(out, optimize=True)
        written.append(out)
    return written


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


def run_payoff(work: str, data_root: str, seed: int, smoke: bool,
               jobs: int, quiet: bool) -> Dict:
    """The seeded payoff study of this setting (:data:`PAYOFF_BUDGETS`,
    :data:`PAYOFF_SEEDS`) in ``work``, reusing the main job's runs; writes
    and prints its outputs."""
    make_data(data_root, seed, smoke)
    budgets = payoff_budgets(pretrain_budget(smoke))
    study = payoff.run_study(
        FCMAE_CFG, downstream(data_root, smoke), budgets, PAYOFF_SEEDS, work,
        data_options('fcmae', data_root), seed, jobs, quiet, show_dir='vis')
    print('\n' + payoff.write_outputs(study, work))
    print(f'\nwrote {work}/payoff.md, payoff.json and payoff.png')
    return study


def _visualise_reconstruction(work: str, data_root: str,
                              checkpoint: str) -> str:
    """``fcmae_reconstruction.png`` by tools/misc/visualize_fcmae.py."""
    recon = osp.join(work, 'fcmae_reconstruction.png')
    board = ProgressBoard()
    ToolRunner(quiet=True, board=board, root=work)(
        'tools/misc/visualize_fcmae.py',
        [FCMAE_CFG, checkpoint, osp.join(data_root, 'coco', 'val'), '--out',
         recon, '--size', '128'], osp.join(work, 'pretrain', 'tool.log'))
    board.close()
    return recon


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
    recon = _visualise_reconstruction(work, data_root, fcmae_ckpt)
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
