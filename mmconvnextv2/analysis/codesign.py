"""The downstream half of ConvNeXt V2's co-design claim: FCMAE pre-training
of the V1 block (no GRN) and of the V2 block, against random
initialisation, on the quickstart's detection and segmentation tasks, over
seeds (mean +- std).

Each block type is one payoff study (:func:`.payoff.run_study`, budgets 0 and
the FCMAE config's length) with the same data, pre-training seed, schedules
and learning rates; the V1 arm pre-trains the V1 twin of the quickstart's
FCMAE config and fine-tunes with ``model.backbone.block_type=v1``. The V2 arm
shares the quickstart's work dir, so its pre-training and seed-0 runs are
reused. ``tools/analysis_tools/codesign_study.py`` is its command line.
"""
import os.path as osp
from typing import Dict, List, Sequence

from mmconvnextv2.utils import write_json

from . import payoff
from . import quickstart as qs
from .collapse_pretrain import V1_CONFIG
from .runner import data_options
from .summary import pyplot

__all__ = ['ARMS', 'COLUMNS', 'arm_tasks', 'run_codesign', 'codesign_table',
           'plot_codesign']

#: block type: (FCMAE config, extra fine-tuning options)
ARMS = {'v2': (qs.FCMAE_CFG, []),
        'v1': (V1_CONFIG, ['model.backbone.block_type=v1'])}
#: the table's columns: (label, block type, start)
COLUMNS = (('random V1', 'v1', 'random'), ('random V2', 'v2', 'random'),
           ('FCMAE V1', 'v1', 'fcmae'), ('FCMAE V2', 'v2', 'fcmae'))


def arm_tasks(block: str, data_root: str, smoke: bool
              ) -> List[payoff.Downstream]:
    """The quickstart's tasks (data, learning rate of each start) for a
    block type."""
    tasks = qs.downstream(data_root, smoke)
    for task in tasks:
        task.options = task.options + ARMS[block][1]
    return tasks


def run_codesign(work: str, v2_work: str, data_root: str,
                 seeds: Sequence[int], smoke: bool = False, jobs: int = 2,
                 quiet: bool = False) -> Dict:
    """Both arms' studies (V2 in ``v2_work``, e.g. the quickstart's work
    dir, V1 in ``work/v1``); returns ``{block: study}`` and writes
    ``codesign.json``, ``codesign.md`` and ``codesign.png`` in ``work``."""
    qs.make_data(data_root, 0, smoke)
    budget = qs.pretrain_budget(smoke)
    dirs = {'v2': v2_work, 'v1': osp.join(work, 'v1')}
    studies = {}
    for block, (config, _) in ARMS.items():
        studies[block] = payoff.run_study(
            config, arm_tasks(block, data_root, smoke), [0, budget], seeds,
            dirs[block], data_options('fcmae', data_root), 0, jobs, quiet)
    table = codesign_table(studies, budget)
    write_json(osp.join(work, 'codesign.json'), studies)
    with open(osp.join(work, 'codesign.md'), 'w') as f:
        f.write('# ConvNeXt V1 vs V2 under FCMAE, downstream\n\n' + table
                + '\n')
    plot_codesign(studies, budget, osp.join(work, 'codesign.png'))
    return studies


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
