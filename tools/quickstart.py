"""The main job on a fresh machine: FCMAE pre-training -> Mask R-CNN + UperNet
fine-tuning (FCMAE init vs random init) -> COCO mAP / mIoU, with pictures.

Everything runs through the real tools (``tools/train.py``, ``tools/test.py``,
``tools/misc/visualize_fcmae.py``) on the synthetic data sets, ConvNeXt V2-atto,
CPU. Outputs go to ``work_dirs/quickstart/``: ``results.json``/``results.md``
(the table), ``fcmae_reconstruction.png``, ``loss_curves.png``,
``det_result_*.jpg``/``seg_result_*.png`` and one work dir per run. A second
run reuses every finished stage; ``--fresh`` starts over.

    python tools/quickstart.py            # about 10 minutes on 2 CPU cores
    python tools/quickstart.py --smoke    # tiny budgets (used by the tests)
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FCMAE_CFG = 'configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-300i_synthetic-128px.py'
DET_CFG = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'
SEG_CFG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'
METRICS = {'det': {'bbox mAP': 'coco/bbox_mAP', 'segm mAP': 'coco/segm_mAP'},
           'seg': {'mIoU': 'mIoU'}}
TASKS = {'det': ('Mask R-CNN', DET_CFG), 'seg': ('UperNet', SEG_CFG)}


def run(cmd: List[str], quiet: bool) -> float:
    """Run a tool from the repository root; return its wall time in seconds."""
    print('\n$ ' + ' '.join(cmd), flush=True)
    start = time.time()
    result = subprocess.run(
        [sys.executable] + cmd, cwd=ROOT,
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.STDOUT if quiet else None)
    if result.returncode:
        raise SystemExit(f'quickstart: `{" ".join(cmd)}` failed '
                         f'(exit {result.returncode}); see its log above')
    return time.time() - start


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint mmengine recorded last in ``work_dir``, if any."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.exists(pointer):
        return None
    with open(pointer) as f:
        path = f.read().strip()
    return path if osp.exists(path) else None


def test_metrics(test_dir: str) -> Optional[Dict[str, float]]:
    """Metrics written by tools/test.py (mmengine's ``<stamp>/<stamp>.json``)."""
    files = sorted(glob.glob(osp.join(test_dir, '2*', '2*.json')))
    if not files:
        return None
    with open(files[-1]) as f:
        return json.load(f)


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


def train_and_test(name: str, config: str, work: str, data: List[str],
                   budget: List[str], init: Optional[str],
                   args: argparse.Namespace) -> Dict:
    """Train ``config`` (from ``init``'s backbone weights or random) and test it."""
    work_dir = osp.join(work, name)
    times = {'train_s': 0., 'test_s': 0.}
    ckpt = last_checkpoint(work_dir)
    if ckpt is None:
        options = data + budget + [f'randomness.seed={args.seed}']
        if init:
            options += ['model.backbone.init_cfg.type=Pretrained',
                        f'model.backbone.init_cfg.checkpoint={init}',
                        'model.backbone.init_cfg.prefix=backbone.']
        times['train_s'] = run(['tools/train.py', config, '--work-dir', work_dir,
                                '--cfg-options'] + options, args.quiet)
        ckpt = last_checkpoint(work_dir)
    test_dir = osp.join(work_dir, 'test')
    metrics = test_metrics(test_dir)
    if metrics is None:
        times['test_s'] = run(['tools/test.py', config, ckpt, '--work-dir',
                               test_dir, '--show-dir', 'vis', '--cfg-options']
                              + data, args.quiet)
        metrics = test_metrics(test_dir)
    return dict(checkpoint=ckpt, metrics=metrics, **times)


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


def plot_losses(work: str, out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    curve = loss_history(osp.join(work, 'fcmae'))
    axes[0].plot(curve['iter'], curve['loss'], color='tab:purple')
    axes[0].set_title('FCMAE pre-training (masked-patch MSE)')
    for ax, task in zip(axes[1:], ('det', 'seg')):
        for init, colour in (('fcmae', 'tab:blue'), ('random', 'tab:orange')):
            curve = loss_history(osp.join(work, f'{task}_{init}'))
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


def copy_result_pictures(work: str) -> List[str]:
    """Copy the first two test visualisations of each FCMAE-init run."""
    copied = []
    for task, ext in (('det', 'jpg'), ('seg', 'png')):  # mmdet / mmseg output
        found = sorted(glob.glob(osp.join(work, f'{task}_fcmae', 'test', '**',
                                          'vis', '**', f'*.{ext}'), recursive=True))
        for i, path in enumerate(found[:2]):
            dest = osp.join(work, f'{task}_result_{i}{osp.splitext(path)[1]}')
            shutil.copyfile(path, dest)
            copied.append(dest)
    return copied


def write_table(work: str, results: Dict) -> str:
    """results.json and results.md; returns the Markdown."""
    with open(osp.join(work, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    lines = ['| model | init | metric | value | train (s) | test (s) |',
             '|---|---|---|---|---|---|']
    for task, (title, _) in TASKS.items():
        for init in ('fcmae', 'random'):
            run_ = results['runs'][f'{task}_{init}']
            for label, key in METRICS[task].items():
                value = run_['metrics'].get(key, float('nan'))
                lines.append(f'| {title} | {init} | {label} | {value:.4f} | '
                             f'{run_["train_s"]:.0f} | {run_["test_s"]:.0f} |')
    lines.append(f'\nFCMAE pre-training: {results["fcmae_s"]:.0f} s; data: '
                 f'{results["data_s"]:.0f} s; total: {results["total_s"]:.0f} s '
                 '(stages reused from an earlier run count 0 s).')
    table = '\n'.join(lines)
    with open(osp.join(work, 'results.md'), 'w') as f:
        f.write('# Quickstart results (synthetic data, ConvNeXt V2-atto, CPU)\n\n'
                + table + '\n')
    return table


def main(argv: Optional[List[str]] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/quickstart')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--fresh', action='store_true',
                        help='delete the work dir first and redo every stage')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny budgets: checks the pipeline, not the numbers')
    parser.add_argument('--quiet', action='store_true',
                        help="hide the tools' own logs")
    args = parser.parse_args(argv)
    work = osp.join(ROOT, args.work_dir)
    data_root = osp.join(ROOT, args.data_root)
    if args.fresh and osp.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    start = time.time()

    sys.path.insert(0, ROOT)
    from mmconvnextv2.datasets import make_synthetic_data
    t = time.time()
    sizes = dict(num_train=8, num_val=2) if args.smoke else {}
    make_synthetic_data(data_root, seed=args.seed, **sizes)
    data_s = time.time() - t

    def budget(iters: int, interval: int) -> List[str]:
        return [f'train_cfg.max_iters={iters}',
                f'default_hooks.checkpoint.interval={interval}',
                f'default_hooks.logger.interval={max(1, interval // 4)}']

    # --smoke: 2 iterations, no validation during training (tools/test.py
    # still evaluates every run)
    fcmae_budget = budget(2, 2) if args.smoke else []
    det_budget = budget(2, 2) + ['train_cfg.val_interval=1000'] \
        if args.smoke else []
    seg_budget = det_budget
    fcmae_dir = osp.join(work, 'fcmae')
    fcmae_s = 0.
    fcmae_ckpt = last_checkpoint(fcmae_dir)
    if fcmae_ckpt is None:
        fcmae_s = run(['tools/train.py', FCMAE_CFG, '--work-dir', fcmae_dir,
                       '--cfg-options', f'randomness.seed={args.seed}']
                      + data_options('fcmae', data_root) + fcmae_budget,
                      args.quiet)
        fcmae_ckpt = last_checkpoint(fcmae_dir)
    recon = osp.join(work, 'fcmae_reconstruction.png')
    run(['tools/misc/visualize_fcmae.py', FCMAE_CFG, fcmae_ckpt,
         osp.join(data_root, 'coco', 'val'), '--out', recon, '--size', '128'],
        args.quiet)

    runs = {}
    for task, (_, config) in TASKS.items():
        for init in ('fcmae', 'random'):
            runs[f'{task}_{init}'] = train_and_test(
                f'{task}_{init}', config, work,
                data_options(task, data_root),
                det_budget if task == 'det' else seg_budget,
                fcmae_ckpt if init == 'fcmae' else None, args)
    results = dict(runs=runs, fcmae_s=fcmae_s, data_s=data_s,
                   fcmae_checkpoint=fcmae_ckpt, smoke=args.smoke,
                   total_s=time.time() - start)
    plot_losses(work, osp.join(work, 'loss_curves.png'))
    results['pictures'] = [recon, osp.join(work, 'loss_curves.png')] + \
        copy_result_pictures(work)
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
