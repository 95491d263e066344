"""The main job on a fresh machine: FCMAE pre-training -> Mask R-CNN + UperNet
fine-tuning (FCMAE init vs random init) -> COCO mAP / mIoU, with pictures.

Everything runs through the real tools (``tools/train.py``, ``tools/test.py``,
``tools/misc/visualize_fcmae.py``) on the synthetic data sets, ConvNeXt V2-atto,
CPU, driven by the payoff study's engine
(``tools/analysis_tools/fcmae_payoff.py``) with two budgets (0 = random init,
and the FCMAE config's length) and one seed. The setting is the usual
self-supervised one: FCMAE pre-trains on a pool of unlabelled images much
larger than the labelled training sets. Two tools run at once, one thread
each (the random-init runs beside the pre-training). Outputs go to
``work_dirs/quickstart/`` (``work_dirs/quickstart-seed<N>/`` for another
seed): ``results.json``/``results.md`` (the table),
``fcmae_reconstruction.png``, ``loss_curves.png``,
``det_result_*.jpg``/``seg_result_*.png`` and one work dir per run. A second
run reuses every finished stage; ``--fresh`` starts over.

    python tools/quickstart.py            # about 10 minutes on 2 CPU cores
    python tools/quickstart.py --seed 1   # everything drawn anew
    python tools/quickstart.py --payoff   # the seeded study of this setting
    python tools/quickstart.py --smoke    # tiny budgets (used by the tests)
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import shutil
import sys
import time
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
import fcmae_payoff  # noqa: E402  (the study engine, a sibling tool)

FCMAE_CFG = 'configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py'
DET_CFG = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'
SEG_CFG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'
METRICS = {'det': {'bbox mAP': 'coco/bbox_mAP', 'segm mAP': 'coco/segm_mAP'},
           'seg': {'mIoU': 'mIoU'}}
TASKS = {'det': ('Mask R-CNN', DET_CFG), 'seg': ('UperNet', SEG_CFG)}
#: The synthetic data of the main job: few labels, many unlabelled images.
DATA = dict(num_train=32, num_val=32, num_unlabelled=1024)
SMOKE_DATA = dict(num_train=8, num_val=2, num_unlabelled=8)
#: Fine-tuning learning rate per task and start (AdamW; the configs' own
#: for batch 16 is 2e-4 for Mask R-CNN, 1e-4 for UperNet), chosen by
#: ``--lr-sweep`` on another data set (seed :data:`SWEEP_DATA_SEED`): its
#: validation split, never the one the table reports.
#: Measured (``work_dirs/lr_sweep/lr_sweep.md``, one seed): Mask R-CNN
#: bbox+segm mAP / 2 best at 4e-4 for both starts (8e-4 worse for both);
#: UperNet mIoU best at 3e-3 from random init (1e-2 worse) and 1e-2 from
#: FCMAE (69.97 vs 68.48 at 3e-3).
LR = {'det': {'random': 4e-4, 'fcmae': 4e-4},
      'seg': {'random': 3e-3, 'fcmae': 1e-2}}
LR_GRID = {'det': (1e-4, 2e-4, 4e-4, 8e-4), 'seg': (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)}
SWEEP_DATA_SEED = 100
#: The payoff study of this setting (``--payoff``): budgets and seeds.
PAYOFF_BUDGETS = (0, 250, 500, 1000)
PAYOFF_SEEDS = (0, 1, 2)


def data_options(task: str, data_root: str) -> List[str]:
    """--cfg-options pointing a synthetic config's loaders at ``data_root``."""
    if task == 'fcmae':
        return [f'train_dataloader.dataset.data_root={data_root}/']
    root = f'{data_root}/coco/' if task == 'det' else f'{data_root}/ade'
    options = [f'{split}_dataloader.dataset.data_root={root}'
               for split in ('train', 'val', 'test')]
    if task == 'det':
        ann = f'{root}annotations/instances_val.json'
        options += [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']
    return options


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
    return f'optim_wrapper.optimizer.lr={lr:g}'


def downstream(data_root: str, smoke: bool) -> List:
    """The study's tasks: each synthetic config with its data and the
    learning rate of each start (:data:`LR`)."""
    return [fcmae_payoff.Downstream(
        task, config, finetune_options(task, data_root, smoke),
        random_options=[lr_option(LR[task]['random'])],
        fcmae_options=[lr_option(LR[task]['fcmae'])])
        for task, (_, config) in TASKS.items()]


def lr_sweep(args: argparse.Namespace, budget: int) -> Dict:
    """Fine-tune both starts with every learning rate of :data:`LR_GRID` on
    the data of seed :data:`SWEEP_DATA_SEED` (its own unlabelled pool and
    pre-training) and report each start's best on that validation split."""
    from mmconvnextv2.datasets import make_synthetic_data
    data_root = osp.join(ROOT, f'data/synthetic-seed{SWEEP_DATA_SEED}')
    make_synthetic_data(data_root, seed=SWEEP_DATA_SEED,
                        **(SMOKE_DATA if args.smoke else DATA))
    tasks = [fcmae_payoff.Downstream(
        f'{task}_lr{lr:g}', TASKS[task][1],
        finetune_options(task, data_root, args.smoke) + [lr_option(lr)])
        for task in TASKS for lr in LR_GRID[task]]
    work = osp.join(ROOT, 'work_dirs', 'lr_sweep')
    study = fcmae_payoff.run_study(
        FCMAE_CFG, tasks, [0, budget], [0], work,
        data_options('fcmae', data_root), SWEEP_DATA_SEED, args.jobs,
        args.quiet)
    fcmae_payoff.write_outputs(study, work)
    lines = ['| task | start | score by learning rate | best |',
             '|---|---|---|---|']
    best = {}
    for task in TASKS:
        for init, b in (('random', 0), ('fcmae', budget)):
            scores = {}
            for r in study['runs']:
                if r['task'].startswith(task + '_lr') and r['budget'] == b:
                    lr = float(r['task'].split('_lr')[1])
                    # the mean of the task's headline metrics (mAP in 0-1,
                    # mIoU in 0-100: one task's metrics share a scale)
                    scores[lr] = sum(r['headline'].values()) / len(
                        r['headline'])
            best[f'{task}_{init}'] = max(scores, key=scores.get)
            lines.append(f'| {task} | {init} | ' + ', '.join(
                f'{lr:g}: {v:.4f}' for lr, v in sorted(scores.items()))
                + f' | {best[f"{task}_{init}"]:g} |')
    table = '\n'.join(lines)
    with open(osp.join(work, 'lr_sweep.md'), 'w') as f:
        f.write('# Learning-rate sweep (data seed '
                f'{SWEEP_DATA_SEED}, validation split)\n\n{table}\n')
    print('\n' + table + f'\n\nwrote {work}/lr_sweep.md')
    return dict(study=study, best=best)


def pretrain_budget(smoke: bool) -> int:
    """The FCMAE config's own length (2 iterations in smoke mode)."""
    if smoke:
        return 2
    from mmengine.config import Config
    return Config.fromfile(osp.join(ROOT, FCMAE_CFG)).train_cfg.max_iters


def payoff_budgets(budget: int) -> List[int]:
    """:data:`PAYOFF_BUDGETS` scaled to a pre-training of ``budget``
    iterations (the smoke mode's 2 included)."""
    return sorted({b * budget // PAYOFF_BUDGETS[-1] for b in PAYOFF_BUDGETS})


def loss_history(work_dir: str) -> Dict[str, List[float]]:
    """(iter, loss) pairs from mmengine's ``vis_data/scalars.json`` of a run."""
    files = sorted(glob.glob(osp.join(work_dir, '2*', 'vis_data', 'scalars.json')))
    iters, losses = [], []
    for path in files[-1:]:
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'loss' in row and 'iter' in row:
                    iters.append(row['iter'])
                    losses.append(row['loss'])
    return dict(iter=iters, loss=losses)


def run_dirs(work: str, budget: int, seed: int) -> Dict[str, str]:
    """Work dirs of the four runs, keyed ``<task>_<init>``."""
    return {f'{task}_{init}': osp.join(work, task, f'b{b}_s{seed}')
            for task in TASKS for init, b in (('fcmae', budget), ('random', 0))}


def plot_losses(work: str, dirs: Dict[str, str], out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    curve = loss_history(osp.join(work, 'pretrain'))
    axes[0].plot(curve['iter'], curve['loss'], color='tab:purple')
    axes[0].set_title('FCMAE pre-training (masked-patch MSE)')
    for ax, task in zip(axes[1:], TASKS):
        for init, colour in (('fcmae', 'tab:blue'), ('random', 'tab:orange')):
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


def copy_result_pictures(work: str, dirs: Dict[str, str]) -> List[str]:
    """Copy the first two test visualisations of each FCMAE-init run."""
    copied = []
    for task, ext in (('det', 'jpg'), ('seg', 'png')):  # mmdet / mmseg output
        found = sorted(glob.glob(osp.join(dirs[f'{task}_fcmae'], 'test', '**',
                                          'vis', '**', f'*.{ext}'), recursive=True))
        for i, path in enumerate(found[:2]):
            dest = osp.join(work, f'{task}_result_{i}{osp.splitext(path)[1]}')
            shutil.copyfile(path, dest)
            copied.append(dest)
    return copied


def write_table(work: str, results: Dict) -> str:
    """results.json and results.md; returns the Markdown."""
    fcmae_payoff._write_json(osp.join(work, 'results.json'), results)
    lines = ['| model | init | metric | value | train (s) | test (s) |',
             '|---|---|---|---|---|---|']
    for task, (title, _) in TASKS.items():
        for init in ('fcmae', 'random'):
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


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', help='default: work_dirs/quickstart '
                        '(work_dirs/quickstart-seed<N> for --seed N > 0); '
                        '--payoff shares it, reusing the main job\'s runs')
    parser.add_argument('--data-root', help='default: data/synthetic '
                        '(data/synthetic-seed<N> for --seed N > 0)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the data, the pre-training and the '
                        'fine-tuning')
    parser.add_argument('--payoff', action='store_true',
                        help='run the seeded payoff study of this setting '
                        f'instead: budgets {PAYOFF_BUDGETS}, fine-tuning seeds '
                        f'{PAYOFF_SEEDS}, in the same work dir (the main job\'s '
                        'runs are the study\'s seed-0 runs at budgets 0 and '
                        'the largest)')
    parser.add_argument('--lr-sweep', action='store_true',
                        help='choose the fine-tuning learning rates (LR) on '
                        f'the data of seed {SWEEP_DATA_SEED}, for each start')
    parser.add_argument('--jobs', type=int, default=2,
                        help='tools run at once, threads split between them')
    parser.add_argument('--fresh', action='store_true',
                        help='delete the work dir first and redo every stage')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny budgets: checks the pipeline, not the numbers')
    parser.add_argument('--quiet', action='store_true',
                        help="hide the tools' own logs (always hidden with "
                        '--jobs > 1: each run has its tool.log)')
    args = parser.parse_args(argv)
    suffix = f'-seed{args.seed}' if args.seed else ''
    args.work_dir = args.work_dir or 'work_dirs/quickstart' + suffix
    args.data_root = args.data_root or 'data/synthetic' + suffix
    return args


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    work = osp.join(ROOT, args.work_dir)
    data_root = osp.join(ROOT, args.data_root)
    if args.fresh and osp.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    start = time.time()

    sys.path.insert(0, ROOT)
    if args.lr_sweep:
        return lr_sweep(args, pretrain_budget(args.smoke))
    from mmconvnextv2.datasets import make_synthetic_data
    t = time.time()
    make_synthetic_data(data_root, seed=args.seed,
                        **(SMOKE_DATA if args.smoke else DATA))
    data_s = time.time() - t

    budget = pretrain_budget(args.smoke)
    tasks = downstream(data_root, args.smoke)
    budgets = payoff_budgets(budget)
    if args.payoff:
        study = fcmae_payoff.run_study(
            FCMAE_CFG, tasks, budgets, PAYOFF_SEEDS, work,
            data_options('fcmae', data_root), args.seed, args.jobs, args.quiet,
            show_dir='vis')
        print('\n' + fcmae_payoff.write_outputs(study, work))
        print(f'\nwrote {work}/payoff.md, payoff.json and payoff.png')
        return study

    study = fcmae_payoff.run_study(
        FCMAE_CFG, tasks, [0, budget], [args.seed], work,
        data_options('fcmae', data_root), args.seed, args.jobs, args.quiet,
        show_dir='vis', keep_budgets=budgets)
    fcmae_ckpt = study['pretrain']['checkpoints'][str(budget)]
    recon = osp.join(work, 'fcmae_reconstruction.png')
    fcmae_payoff.ToolRunner(quiet=args.quiet)(
        ['tools/misc/visualize_fcmae.py', FCMAE_CFG, fcmae_ckpt,
         osp.join(data_root, 'coco', 'val'), '--out', recon, '--size', '128'],
        osp.join(work, 'pretrain', 'tool.log'))
    by_key = {(r['task'], r['budget']): r for r in study['runs']}
    runs = {f'{task}_{init}': by_key[(task, b)] for task in TASKS
            for init, b in (('fcmae', budget), ('random', 0))}
    results = dict(runs=runs, seed=args.seed, budget=budget,
                   fcmae_s=study['pretrain']['train_s'], data_s=data_s,
                   fcmae_checkpoint=fcmae_ckpt, smoke=args.smoke,
                   total_s=time.time() - start)
    dirs = run_dirs(work, budget, args.seed)
    plot_losses(work, dirs, osp.join(work, 'loss_curves.png'))
    results['pictures'] = [recon, osp.join(work, 'loss_curves.png')] + \
        copy_result_pictures(work, dirs)
    table = write_table(work, results)
    print('\n' + table)
    bad = [k for k, r in runs.items() for v in r['metrics'].values()
           if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        print(f'warning: non-finite metrics in {bad}')
    print(f'\nwrote {work}/results.md, results.json and pictures')
    return results


if __name__ == '__main__':
    main()
