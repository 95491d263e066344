"""Does GRN prevent feature collapse? ConvNeXt V1 vs V2 under FCMAE, at this
machine's scale (issue 18, item 3).

FCMAE pre-trains ConvNeXt V1-atto and V2-atto with the same config (the V1
twin differs only in ``block_type``), data, budget and seed, through
``tools/train.py`` in child processes (two at a time, one thread each). A
finished V2 run of the quickstart is reused when given. Then
:mod:`.feature_collapse` measures four backbones (V1 and V2, each random and
FCMAE) on the validation images, for each requested tap, and the study writes
``study.json`` / ``study.md`` (per-stage mean distance and dead fraction,
wall times) beside one analysis folder per tap (``collapse.json``,
``collapse.png``, ``activations.png``), and, for the first tap, the same
measure at every quarter of the pre-training (``trend/``, ``trend.png``).
"""
import json
import os
import os.path as osp
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

from .feature_collapse import (CheckpointSpec, feature_collapse,
                               feature_collapse_taps, markdown_table,
                               quiet_logs, stage_means)
from .runner import run_tool, say

__all__ = ['V1_CONFIG', 'LABELS', 'run_train', 'trend_budgets',
           'pretrain_options', 'budget_trend', 'plot_trend',
           'find_checkpoint', 'pretrain', 'collapse_study', 'study_markdown']

#: The V1 twin of the quickstart's FCMAE config.
V1_CONFIG = ('configs/fcmae/'
             'fcmae_convnext-v1-atto_1xb16-coslr-1000i_synthetic-128px.py')
#: The four backbones, in the order of the tables and plots.
LABELS = ('V1-random', 'V1-FCMAE', 'V2-random', 'V2-FCMAE')


def run_train(config: str, work_dir: str, options: Sequence[str],
              threads: int = 1) -> float:
    """Train ``config`` with ``tools/train.py`` in a child process of the
    shared runner (resuming from the work dir's last checkpoint), output to
    ``work_dir/tool.log``; return the wall time. The study's only
    child-process call.

    Raises:
        ToolError: The training failed (the message names its log).
    """
    log = osp.join(work_dir, 'tool.log')
    args = [config, '--work-dir', work_dir, '--resume', '--cfg-options',
            *options]
    say(f'$ tools/train.py {" ".join(args)}   (log: {log})')
    return run_tool('tools/train.py', args, log=log, threads=threads).seconds


def trend_budgets(budget: int) -> List[int]:
    """The checkpoints kept along a pre-training of ``budget`` iterations:
    every quarter (the quickstart's keeps 250, 500, 750 and 1000 of 1000)."""
    step = max(1, budget // 4)
    return sorted({b for b in range(step, budget + 1, step)} | {budget})


def pretrain_options(budget: int, seed: int,
                     data_options: Sequence[str] = ()) -> List[str]:
    """``--cfg-options`` of one pre-training: its length, seed and data, and
    a checkpoint kept every quarter (:func:`trend_budgets`). The config's LR
    schedule is kept (the study's budget is the config's; a shorter one, as
    in the smoke run, cuts the schedule short)."""
    return [f'train_cfg.max_iters={budget}', f'randomness.seed={seed}',
            f'default_hooks.checkpoint.interval={max(1, budget // 4)}',
            'default_hooks.checkpoint.max_keep_ckpts=-1', *data_options]


def find_checkpoint(work_dir: str, budget: int) -> Optional[str]:
    """``work_dir/iter_<budget>.pth`` if it exists (checkpoints are written
    atomically, so an existing one is complete)."""
    path = osp.join(work_dir, f'iter_{budget}.pth')
    return path if osp.isfile(path) else None


def pretrain(runs: Dict[str, Dict], budget: int, seed: int,
             data_options: Sequence[str], jobs: int = 2,
             threads: int = 1) -> Dict[str, Dict]:
    """Pre-train every run ``{name: {"config", "work_dir", "reuse"}}`` whose
    final checkpoint is missing (``reuse``: other work dirs to take it from
    first), ``jobs`` at a time; return ``{name: {"checkpoint", "train_s",
    "reused"}}``."""
    todo, done = {}, {}
    for name, run in runs.items():
        for where in list(run.get('reuse') or []) + [run['work_dir']]:
            found = find_checkpoint(where, budget)
            if found:
                done[name] = dict(checkpoint=found, train_s=0., reused=True)
                say(f'[collapse] {name}: reusing {found}')
                break
        else:
            todo[name] = run
    options = pretrain_options(budget, seed, data_options)

    def train(name: str) -> Dict:
        run = todo[name]
        seconds = run_train(run['config'], run['work_dir'], options, threads)
        found = find_checkpoint(run['work_dir'], budget)
        if found is None:
            raise RuntimeError(f'{name}: training wrote no iter_{budget}.pth '
                               f'in {run["work_dir"]}')
        say(f'[collapse] {name}: {budget} iterations in {seconds:.0f} s')
        return dict(checkpoint=found, train_s=seconds, reused=False)

    if todo:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {name: pool.submit(train, name) for name in todo}
            for name, future in futures.items():
                done[name] = future.result()
    return {name: done[name] for name in runs}


def _overall(blocks: Sequence[Dict]) -> Dict[str, float]:
    return dict(distance=sum(b['distance'] for b in blocks) / len(blocks),
                dead=sum(b['dead'] for b in blocks) / len(blocks))


def budget_trend(trained: Dict[str, Dict], budget: int, image_dir: str,
                 work_dir: str, tap: str, num_images: int, size: int,
                 seed: int, final: Dict[str, Dict],
                 progress: bool = True) -> Dict[str, Dict]:
    """Per-stage means of V1 and V2 at every kept checkpoint of the
    pre-trainings (0 = the random networks, ``budget`` = ``final``'s), for
    ``tap``; analyses the intermediate ones into ``work_dir/trend/``.
    Returns ``{str(iterations): {"V1": {"stages", "all"}, "V2": ...}}``."""
    trend = {}
    for b in [0] + trend_budgets(budget):
        if b in (0, budget):
            records = {arm: final[f'{arm}-{"random" if b == 0 else "FCMAE"}']
                       for arm in ('V1', 'V2')}
        else:
            specs = []
            for arm in ('V1', 'V2'):
                path = find_checkpoint(
                    osp.dirname(trained[arm]['checkpoint']), b)
                if path:
                    specs.append(CheckpointSpec(arm, path, arm.lower()))
            if not specs:
                continue
            say(f'[collapse] trend: iteration {b}')
            records = feature_collapse(
                'atto', specs, image_dir, osp.join(work_dir, 'trend', f'iter_{b}'),
                num_images=num_images, size=size, tap=tap, seed=seed,
                progress=progress)
        trend[str(b)] = {arm: dict(stages=stage_means(r['blocks']),
                                   all=_overall(r['blocks']))
                         for arm, r in records.items()}
    plot_trend(trend, tap, osp.join(work_dir, 'trend.png'))
    return trend


def plot_trend(trend: Dict[str, Dict], tap: str, out: str) -> None:
    """Mean distance per stage vs pre-training iterations, V1 and V2."""
    from .summary import pyplot
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    iters = sorted(trend, key=int)
    for arm, style in (('V1', '--'), ('V2', '-')):
        stages = [m['stage'] for m in trend[iters[0]][arm]['stages']] \
            if arm in trend[iters[0]] else []
        for s in stages:
            xs = [int(i) for i in iters if arm in trend[i]]
            ys = [trend[i][arm]['stages'][s]['distance'] for i in iters
                  if arm in trend[i]]
            ax.plot(xs, ys, style, marker='o', color=f'C{s}',
                    label=f'{arm} stage {s}')
    ax.set_xlabel('FCMAE pre-training iterations (0: random init)')
    ax.set_ylabel('mean cosine distance')
    ax.set_title(f'Channel distance vs pre-training (tap {tap})')
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def study_markdown(study: Dict) -> str:
    """The study's tables (one per tap) and wall times, in Markdown."""
    lines = [f'FCMAE pre-training: {study["budget"]} iterations, seed '
             f'{study["seed"]}; analysis on {study["num_images"]} images of '
             f'`{study["image_dir"]}` at {study["size"]} px.', '']
    for tap, collapse in study['collapse'].items():
        lines += [f'## Tap `{tap}`', '', markdown_table(collapse), '']
    trend = study.get('trend') or {}
    if trend:
        iters = sorted(trend, key=int)
        lines += [f'## Along the pre-training (tap `{next(iter(study["collapse"]))}`,'
                  ' mean over all blocks, dead fraction in brackets)', '',
                  '| iterations | ' + ' | '.join(iters) + ' |',
                  '|---' * (len(iters) + 1) + '|']
        for arm in ('V1', 'V2'):
            lines.append(f'| {arm} | ' + ' | '.join(
                f'{trend[i][arm]["all"]["distance"]:.3f} '
                f'({100 * trend[i][arm]["all"]["dead"]:.1f}%)'
                if arm in trend[i] else '-' for i in iters) + ' |')
        lines.append('')
    times = study['times']
    pre = ', '.join(
        f'{name} {r["train_s"]:.0f} s' + (' (reused)' if r['reused'] else '')
        for name, r in study['pretrain'].items())
    lines.append(f'Wall time: data {times["data_s"]:.0f} s; pre-training '
                 f'{times["pretrain_s"]:.0f} s ({pre}, '
                 f'{study["jobs"]} at a time, {study["threads"]} thread(s) '
                 f'each); analysis {times["analysis_s"]:.0f} s; total '
                 f'{times["total_s"]:.0f} s.')
    return '\n'.join(lines)


def collapse_study(v2_config: str, work_dir: str, image_dir: str,
                   budget: int, seed: int = 0,
                   data_options: Sequence[str] = (),
                   v1_config: str = V1_CONFIG,
                   reuse_v2: Sequence[str] = (),
                   taps: Sequence[str] = ('mlp', 'grn', 'block'),
                   num_images: int = 32, size: int = 224, jobs: int = 2,
                   threads: int = 1, data_s: float = 0.,
                   progress: bool = True) -> Dict:
    """Pre-train V1 and V2 with FCMAE (or reuse), analyse the four backbones.

    Args:
        v2_config: The V2 FCMAE config (the quickstart's).
        work_dir: Output folder: ``fcmae_v1/``, ``fcmae_v2/`` (pre-training
            runs), ``<tap>/`` (each analysis), ``study.json``, ``study.md``.
        image_dir: Folder of the images analysed (the validation images).
        budget: Pre-training iterations of both runs.
        seed: Seed of both pre-trainings and of the random networks.
        data_options: ``--cfg-options`` pointing the configs at the data.
        v1_config: The V1 twin of ``v2_config``.
        reuse_v2: Work dirs of earlier V2 runs of the same config, budget,
            seed and data (the quickstart's) to take ``iter_<budget>.pth``
            from.
        taps: The analyses to run; the first is the headline.
        num_images, size: The analysis's first N images and crop size.
        jobs, threads: Pre-trainings at once, threads of each.
        data_s: Seconds the caller spent making the data (for the times).
        progress: Progress bars in the analyses.
    """
    if not taps:
        raise ValueError('no taps to analyse')
    start = time.time()
    os.makedirs(work_dir, exist_ok=True)
    runs = {'V1': dict(config=v1_config, work_dir=osp.join(work_dir, 'fcmae_v1')),
            'V2': dict(config=v2_config, work_dir=osp.join(work_dir, 'fcmae_v2'),
                       reuse=list(reuse_v2))}
    trained = pretrain(runs, budget, seed, data_options, jobs, threads)
    pretrain_s = time.time() - start
    specs = [CheckpointSpec('V1-random', 'random', 'v1'),
             CheckpointSpec('V1-FCMAE', trained['V1']['checkpoint'], 'v1'),
             CheckpointSpec('V2-random', 'random', 'v2'),
             CheckpointSpec('V2-FCMAE', trained['V2']['checkpoint'], 'v2')]
    quiet_logs()
    analysis_start = time.time()
    say(f'[collapse] analysing taps {", ".join(taps)} on {num_images} '
        f'images of {image_dir}')
    collapse = feature_collapse_taps(
        'atto', specs, image_dir, {tap: osp.join(work_dir, tap) for tap in taps},
        num_images=num_images, size=size, seed=seed, progress=progress)
    trend = budget_trend(trained, budget, image_dir, work_dir, taps[0],
                         num_images, size, seed, collapse[taps[0]], progress)
    analysis_s = time.time() - analysis_start
    study = dict(
        budget=budget, seed=seed, v1_config=v1_config, v2_config=v2_config,
        image_dir=image_dir,
        num_images=collapse[taps[0]][LABELS[0]]['num_images'],
        size=size, jobs=jobs, threads=threads, pretrain=trained,
        stage_means={tap: {label: stage_means(rec['blocks'])
                           for label, rec in c.items()}
                     for tap, c in collapse.items()},
        collapse=collapse, trend=trend,
        times=dict(data_s=data_s, pretrain_s=pretrain_s,
                   analysis_s=analysis_s,
                   total_s=data_s + time.time() - start))
    with open(osp.join(work_dir, 'study.json'), 'w') as f:
        json.dump(study, f, indent=2)
    with open(osp.join(work_dir, 'study.md'), 'w') as f:
        f.write('# Feature collapse: ConvNeXt V1 vs V2, random vs FCMAE\n\n'
                + study_markdown(study) + '\n')
    return study
