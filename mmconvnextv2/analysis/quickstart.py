"""The main job's plan: FCMAE pre-training -> Mask R-CNN + UperNet
fine-tuning (FCMAE init vs random init) -> COCO mAP / mIoU on the synthetic
data sets (ConvNeXt V2-atto, CPU), as a payoff study (:mod:`.payoff`) with
two budgets and one seed; also the seeded payoff study of this setting:
its configs, data, learning rates, lengths and runs. :mod:`.quickstart_run`
runs it (``tools/quickstart.py`` is the command line), with its table
(:mod:`.quickstart_report`) and pictures (:mod:`.quickstart_pictures`);
:mod:`.quickstart_sweep` is the sweep that chose its learning rates.

Why the settings are what they are (the lengths, the learning rates), with
the runs that chose them: docs/user_guides/payoff.md, "The setting".
"""
import os.path as osp
import time
from typing import Dict, List

from . import payoff
from .runner import data_options, repo_root

__all__ = ['FCMAE_CFG', 'DET_CFG', 'SEG_CFG', 'TASKS', 'DATA', 'SMOKE_DATA',
           'LR', 'PRETRAIN_ITERS', 'PAYOFF_BUDGETS', 'PAYOFF_SEEDS', 'STARTS',
           'SCORE_THR', 'NO_VALIDATION', 'picture_options',
           'finetune_options', 'lr_option', 'downstream', 'make_data',
           'config_length', 'pretrain_budget', 'payoff_budgets', 'run_dirs']

FCMAE_CFG = 'configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py'
DET_CFG = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'
SEG_CFG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'
TASKS = {'det': ('Mask R-CNN', DET_CFG), 'seg': ('UperNet', SEG_CFG)}
#: The synthetic data of the main job: few labels, many unlabelled images.
DATA = dict(num_train=32, num_val=32, num_unlabelled=1024)
SMOKE_DATA = dict(num_train=8, num_val=2, num_unlabelled=8)
#: Fine-tuning learning rate per task and start (AdamW; the COCO / ADE20K
#: recipes' own, for batch 16, are 2e-4 for Mask R-CNN and 1e-4 for
#: UperNet), chosen by ``--lr-sweep`` (:mod:`.quickstart_sweep`) on another
#: data set: its validation split, never the one the table reports; the
#: mean over the sweep's seeds of each task's headline metrics, every
#: optimum with a worse rate on both sides. The sweep's table:
#: docs/user_guides/payoff.md, "The setting".
LR = {'det': {'random': 1.6e-3, 'fcmae': 8e-4},
      'seg': {'random': 3e-2, 'fcmae': 1e-2}}
#: FCMAE pre-training iterations of the main job (the config's cosine
#: schedule, 1000 iterations, stretched to this length); why this length:
#: docs/user_guides/payoff.md, "The setting".
PRETRAIN_ITERS = 500
#: The payoff study of this setting (``--payoff``): its budgets, of
#: :data:`PRETRAIN_ITERS` (scaled in smoke mode).
PAYOFF_BUDGETS = (0, 125, 250, 500)
#: The payoff study's fine-tuning seeds.
PAYOFF_SEEDS = (0, 1, 2)
#: The two starts of each task, with the budget (0 or the largest) each
#: stands for.
STARTS = ('fcmae', 'random')
#: The pictures draw a detection from this score on (mmdet's visualiser:
#: scores above it), so that an object wears one or two labels, not five.
SCORE_THR = 0.5
#: No validation during training: tools/test.py evaluates each run once, on
#: the validation split, after training.
NO_VALIDATION = 'train_cfg.val_begin=1000000'


def picture_options(task: str) -> List[str]:
    """The ``--cfg-options`` of the test pictures (``--show-dir``): a
    detector's drawn from :data:`SCORE_THR` on."""
    return [f'default_hooks.visualization.score_thr={SCORE_THR}'] \
        if task == 'det' else []


def finetune_options(task: str, data_root: str, smoke: bool) -> List[str]:
    """Data roots, and no validation during training
    (:data:`NO_VALIDATION`)."""
    options = data_options(task, data_root) + [NO_VALIDATION]
    if smoke:
        options += ['train_cfg.max_iters=2',
                    'default_hooks.checkpoint.interval=2',
                    'default_hooks.logger.interval=1']
    return options


def lr_option(lr: float) -> str:
    """The ``--cfg-options`` item setting the optimizer's learning rate."""
    return f'optim_wrapper.optimizer.lr={lr:g}'


def downstream(data_root: str, smoke: bool, pictures: bool = False
               ) -> List[payoff.Downstream]:
    """The study's tasks: each synthetic config with its data and the
    learning rate of each start (:data:`LR`); ``pictures``: with
    :func:`picture_options`."""
    return [payoff.Downstream(
        task, config, finetune_options(task, data_root, smoke)
        + (picture_options(task) if pictures else []),
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
