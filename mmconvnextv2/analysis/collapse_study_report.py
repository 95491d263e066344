"""What the collapse study (:mod:`.collapse_study`) writes beside each tap's
analysis: ``study.json`` (the study's record), ``study.md`` (one table per
tap, the trend along the pre-training, wall times) and ``trend.png`` (mean
distance per stage against pre-training iterations, V1 and V2)."""
import os.path as osp
from typing import Dict

from mmconvnextv2.utils import write_json

from .collapse_report import markdown_table
from .summary import pyplot

__all__ = ['plot_trend', 'study_markdown', 'write_study']


def plot_trend(trend: Dict[str, Dict], tap: str, out: str) -> None:
    """Mean distance per stage vs pre-training iterations, V1 and V2."""
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


def _trend_lines(study: Dict) -> list:
    """The table of the first tap along the pre-training (none without a
    trend)."""
    trend = study.get('trend') or {}
    if not trend:
        return []
    iters = sorted(trend, key=int)
    lines = [f'## Along the pre-training (tap `{next(iter(study["collapse"]))}`,'
             ' mean over all blocks, dead fraction in brackets)', '',
             '| iterations | ' + ' | '.join(iters) + ' |',
             '|---' * (len(iters) + 1) + '|']
    for arm in ('V1', 'V2'):
        lines.append(f'| {arm} | ' + ' | '.join(
            f'{trend[i][arm]["all"]["distance"]:.3f} '
            f'({100 * trend[i][arm]["all"]["dead"]:.1f}%)'
            if arm in trend[i] else '-' for i in iters) + ' |')
    return lines + ['']


def _time_line(study: Dict) -> str:
    times = study['times']
    pre = ', '.join(
        f'{name} {r["train_s"]:.0f} s' + (' (reused)' if r['reused'] else '')
        for name, r in study['pretrain'].items())
    return (f'Wall time: data {times["data_s"]:.0f} s; pre-training '
            f'{times["pretrain_s"]:.0f} s ({pre}, '
            f'{study["jobs"]} at a time, {study["threads"]} thread(s) '
            f'each); analysis {times["analysis_s"]:.0f} s; total '
            f'{times["total_s"]:.0f} s.')


def _pretraining_line(study: Dict) -> str:
    """The budget, seed, folder and crops of both pre-trainings, and the
    images analysed."""
    where = f', on the images of `{study["pretrain_images"]}`' \
        if study.get('pretrain_images') else ''
    crops = f' (crops: {study["crops"]["note"]})' if study.get('crops') \
        else ''
    return (f'FCMAE pre-training of both: {study["budget"]} iterations (the '
            f'config\'s schedule stretched to them), seed {study["seed"]}'
            f'{where}{crops}; analysis on {study["num_images"]} images of '
            f'`{study["image_dir"]}` at {study["size"]} px.')


def study_markdown(study: Dict) -> str:
    """The study's tables (one per tap) and wall times, in Markdown."""
    lines = [_pretraining_line(study), '']
    for tap, collapse in study['collapse'].items():
        lines += [f'## Tap `{tap}`', '', markdown_table(collapse), '']
    return '\n'.join(lines + _trend_lines(study) + [_time_line(study)])


def write_study(work_dir: str, study: Dict) -> None:
    """``study.json`` and ``study.md`` in ``work_dir``."""
    write_json(osp.join(work_dir, 'study.json'), study)
    with open(osp.join(work_dir, 'study.md'), 'w') as f:
        f.write('# Feature collapse: ConvNeXt V1 vs V2, random vs FCMAE\n\n'
                + study_markdown(study) + '\n')
