"""The downstream half of ConvNeXt V2's co-design claim: FCMAE pre-training
of the V1 block (no GRN) and of the V2 block, against random
initialisation, on the quickstart's detection and segmentation tasks, over
seeds (mean +- std).

Each block type is one payoff study (:func:`.payoff.run_study`, budgets 0 and
the FCMAE config's length) with the same data, pre-training seed, schedules
and learning rates; the V1 arm pre-trains the V1 twin of the quickstart's
FCMAE config and fine-tunes with ``model.backbone.block_type=v1``. The V2 arm
shares the quickstart's work dir, so its pre-training and seed-0 runs are
reused. ``tools/analysis_tools/codesign_study.py`` is its command line;
:mod:`.codesign_report` writes its table and plot.
"""
import os.path as osp
from typing import Dict, List, Sequence

from . import payoff
from . import quickstart as qs
from .codesign_report import write_codesign
from .collapse_pretrain import V1_CONFIG
from .runner import data_options

__all__ = ['ARMS', 'arm_tasks', 'run_codesign']

#: block type: (FCMAE config, extra fine-tuning options)
ARMS = {'v2': (qs.FCMAE_CFG, []),
        'v1': (V1_CONFIG, ['model.backbone.block_type=v1'])}


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
    write_codesign(work, studies, budget)
    return studies
