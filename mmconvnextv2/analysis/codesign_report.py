"""The codesign study's report (:mod:`.codesign`): one row per task and
metric, mean +- std of random V1 / random V2 / FCMAE V1 / FCMAE V2, as
``codesign.md`` and ``codesign.png``, and the studies as ``codesign.json``."""
import os.path as osp
from typing import Dict

from mmconvnextv2.utils import write_json

from .summary import pyplot

__all__ = ['COLUMNS', 'codesign_table', 'plot_codesign', 'write_codesign']

#: the table's columns: (label, block type, start)
COLUMNS = (('random V1', 'v1', 'random'), ('random V2', 'v2', 'random'),
           ('FCMAE V1', 'v1', 'fcmae'), ('FCMAE V2', 'v2', 'fcmae'))


def _cell(studies: Dict, block: str, start: str, budget: int, task: str,
          metric: str) -> Dict:
    key = str(budget if start == 'fcmae' else 0)
    return studies[block]['summary'][task][metric][key]


def codesign_table(studies: Dict, budget: int) -> str:
    """Markdown: one row per task and metric, mean +- std (n) of each
    column of :data:`COLUMNS`; bold: the best mean of the row."""
    lines = ['| model | metric | ' + ' | '.join(c[0] for c in COLUMNS) + ' |',
             '|---|---|' + '---|' * len(COLUMNS)]
    for task, metrics in studies['v2']['summary'].items():
        for metric in metrics:
            cells = [_cell(studies, b, s, budget, task, metric)
                     for _, b, s in COLUMNS]
            best = max(c['mean'] for c in cells)
            shown = [f'{c["mean"]:.4f} ± {c["std"]:.4f} (n={c["n"]})'
                     for c in cells]
            shown = [f'**{s}**' if c['mean'] == best else s
                     for s, c in zip(shown, cells)]
            lines.append(f'| {task} | {metric} | ' + ' | '.join(shown) + ' |')
    return '\n'.join(lines)


def plot_codesign(studies: Dict, budget: int, out: str) -> None:
    """One panel per task and metric: a bar per column, mean and std."""
    plt = pyplot()
    panels = [(t, m) for t, ms in studies['v2']['summary'].items() for m in ms]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2),
                             squeeze=False)
    for ax, (task, metric) in zip(axes[0], panels):
        cells = [_cell(studies, b, s, budget, task, metric)
                 for _, b, s in COLUMNS]
        ax.bar(range(len(COLUMNS)), [c['mean'] for c in cells],
               yerr=[c['std'] for c in cells], capsize=3,
               color=['#bbbbbb', '#888888', '#e08a5a', '#3a78c2'])
        ax.set_xticks(range(len(COLUMNS)))
        ax.set_xticklabels([c[0] for c in COLUMNS], rotation=20, fontsize=8)
        ax.set_title(f'{task}: {metric}', fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def write_codesign(work: str, studies: Dict, budget: int) -> None:
    """``codesign.json``, ``codesign.md`` and ``codesign.png`` in ``work``."""
    table = codesign_table(studies, budget)
    write_json(osp.join(work, 'codesign.json'), studies)
    with open(osp.join(work, 'codesign.md'), 'w') as f:
        f.write('# ConvNeXt V1 vs V2 under FCMAE, downstream\n\n' + table
                + '\n')
    plot_codesign(studies, budget, osp.join(work, 'codesign.png'))
