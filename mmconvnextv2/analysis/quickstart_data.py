"""The main job's plan on your own data (``tools/quickstart.py --data OUT``):
the configs written for the imported folder OUT, the images FCMAE
pre-trains on, the starts of the fine-tuning (FCMAE, random, ``--init``),
their learning rates (given, or from a sweep on a split of the training
set), the seeds, and the runs of the payoff study's engine
(:mod:`.payoff`) that carry it out. :mod:`.quickstart_data_run` runs it.

The order: write the configs and the lists (no tool runs); then, for the
starts without a given rate, the sweep (each rate of :func:`rate_grid`, one
seed, :data:`SWEEP_SHARE` of the iterations, on sweep-train / sweep-val)
beside the pre-training; then every start and seed at its rate, tested on
the validation split.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from mmconvnextv2.datasets.config_writer import (WrittenConfigs, preflight,
                                                 write_configs)
from mmconvnextv2.datasets.dataset_info import DatasetInfo, read_dataset_info
from mmconvnextv2.utils import read_json, write_json
from mmconvnextv2.utils.display import display_bands

from . import payoff
from .quickstart import NO_VALIDATION, lr_option, picture_options
from .quickstart_split import (DataJobError, SweepSplit, file_digest,
                               write_pretrain_list, write_sweep_split)
from .runner import repo_root
from .schedule import stretch_schedule

__all__ = ['START_NAMES', 'GRID_STEPS', 'SMOKE_GRID_STEPS', 'SWEEP_SHARE',
           'Start', 'DataPlan', 'default_work_dir', 'config_name',
           'rate_grid', 'init_options', 'plan_data_job', 'sweep_tasks',
           'run_name', 'main_tasks', 'run_dir', 'guard_reuse']

#: The starts, in the table's order.
START_NAMES = ('fcmae', 'random', 'init')
#: The sweep's rates: the config's times 2 to these powers ...
GRID_STEPS = (-1, 0, 1)
#: ... and in smoke mode.
SMOKE_GRID_STEPS = (0, 1)
#: A sweep run's length, as a share of the fine-tuning's.
SWEEP_SHARE = 0.5
#: Iterations of every run in smoke mode (checks the path, not the numbers).
SMOKE_ITERS = 2
_SLUGS = {'det': 'mask-rcnn_convnext-v2-{arch}_fpn_{data}',
          'seg': 'upernet_convnext-v2-{arch}_{data}',
          'cls': 'convnext-v2-{arch}_{data}'}


@dataclass
class Start:
    """One start of the fine-tuning: ``budget`` pre-training iterations it
    starts from (0: none), its own ``options`` (``--init``: the
    checkpoint), its learning rate (``lr``: given; None: from the sweep)
    and ``init`` (the ``--init`` checkpoint)."""
    name: str
    budget: int
    options: List[str] = field(default_factory=list)
    lr: Optional[float] = None
    init: Optional[str] = None


@dataclass
class DataPlan:
    """Everything the main job on a data folder does, decided before a tool
    runs."""
    info: DatasetInfo
    work: str
    arch: str
    written: WrittenConfigs
    budget: int          #: FCMAE iterations
    iters: int           #: fine-tuning iterations
    sweep_iters: int
    base_lr: float       #: the written config's learning rate
    grid: List[float]    #: the sweep's rates
    starts: List[Start]
    seeds: List[int]     #: fine-tuning seeds
    seed: int            #: pre-training seed, and the sweep's (split, runs)
    options: List[str]   #: every fine-tuning run's
    pretrain_images: Dict[str, int]
    sweep: Optional[SweepSplit]
    unlabelled: Optional[str] = None
    smoke: bool = False
    bands: Optional[Tuple[int, ...]] = None  #: drawn in the pictures

    @property
    def task(self) -> str:
        return self.info.task

    def start(self, name: str) -> Start:
        """The start named ``name``."""
        return next(s for s in self.starts if s.name == name)


def default_work_dir(root: str) -> str:
    """``work_dirs/quickstart-<the data folder's name>`` (in the clone)."""
    name = osp.basename(osp.normpath(osp.abspath(root)))
    return osp.join(repo_root(), 'work_dirs', f'quickstart-{name}')


def config_name(task: str, arch: str, root: str) -> str:
    """The written config's file name, named as upstream's are."""
    data = osp.basename(osp.normpath(osp.abspath(root))).replace('_', '-')
    return _SLUGS[task].format(arch=arch, data=data) + '.py'


def rate_grid(base: float, smoke: bool = False) -> List[float]:
    """The sweep's rates around ``base`` (:data:`GRID_STEPS`)."""
    steps = SMOKE_GRID_STEPS if smoke else GRID_STEPS
    return [float(f'{base * 2.0 ** k:.3g}') for k in steps]


def init_options(checkpoint: str) -> List[str]:
    """Load ``checkpoint`` as it is through the backbone's ``init_cfg``:
    our loader finds its layout (official FCMAE, ours, timm ...) and the
    backbone in it."""
    return ['model.backbone.init_cfg.type=Pretrained',
            f'model.backbone.init_cfg.checkpoint={checkpoint}']


def _check_init(checkpoint: str, arch: str) -> str:
    """The absolute path of ``checkpoint``, once our loader has read a
    ConvNeXt V2-``arch`` backbone from it (a bad file fails here, not after
    the pre-training)."""
    from mmconvnextv2.checkpoint import load_backbone_checkpoint
    from mmconvnextv2.models.backbones.convnext_v2 import ConvNeXtV2
    path = osp.abspath(checkpoint)
    if not osp.isfile(path):
        raise DataJobError(f'--init {checkpoint}: no such file')
    load_backbone_checkpoint(ConvNeXtV2(arch=arch), path)
    return path


def _config_values(config: str) -> Dict:
    """The learning rate and the length a config trains with."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    return dict(lr=float(cfg.optim_wrapper.optimizer.lr),
                iters=int(cfg.train_cfg.max_iters))


def plan_data_job(root: str, work: Optional[str] = None,
                  task: Optional[str] = None, arch: str = 'atto',
                  image_size: Optional[int] = None,
                  pretrain_iters: Optional[int] = None,
                  iters: Optional[int] = None,
                  unlabelled: Optional[str] = None,
                  init: Optional[str] = None, seed: int = 0,
                  seeds: Optional[Sequence[int]] = None,
                  lrs: Optional[Dict[str, float]] = None,
                  sweep_iters: Optional[int] = None, smoke: bool = False,
                  check_data: bool = True,
                  bands: Optional[Sequence[int]] = None) -> DataPlan:
    """Write the configs into ``work/configs/`` (the task's and FCMAE's,
    by :func:`~mmconvnextv2.datasets.config_writer.write_configs`), the
    pre-training list (training images + ``unlabelled``) and, if a start
    has no rate in ``lrs`` (``{start: rate}``), the sweep's split into
    ``work/sweep/``; pre-flight the data (``check_data``: every image).
    ``bands``: the bands the pictures draw (one or three; default: the
    first three).

    Raises:
        DataJobError: A validation image would be pre-trained or swept on;
            ``--init`` is missing or unreadable; too few images to sweep;
            ``bands`` not one or three of the images' bands.
        DatasetInfoError: The folder or its ``dataset.json`` is unusable.
    """
    lrs = {k: v for k, v in (lrs or {}).items() if v is not None}
    unknown = sorted(set(lrs) - set(START_NAMES))
    if unknown or ('init' in lrs and init is None):
        raise DataJobError(f'learning rates given for {unknown or ["init"]}'
                           ', which is not a start of this job')
    info = read_dataset_info(root, task)
    if bands is not None:
        try:
            bands = display_bands(info.channels, bands)
        except ValueError as err:
            raise DataJobError(f'{err} ({info.root})') from None
    work = osp.abspath(work or default_work_dir(root))
    if smoke:
        iters = iters or SMOKE_ITERS
        pretrain_iters = pretrain_iters or SMOKE_ITERS
    written = write_configs(
        info.root, osp.join(work, 'configs', config_name(info.task, arch,
                                                         info.root)),
        arch=arch, image_size=image_size, iters=iters,
        pretrain_iters=pretrain_iters)
    problems = preflight(written.config, thorough=check_data)
    preflight(written.fcmae_config, thorough=False)
    if problems:
        raise DataJobError(f'{len(problems)} problem(s) in the data, the '
                           f'first: {problems[0]} (tools/misc/'
                           f'check_dataset.py {written.config} lists all)')
    counts = write_pretrain_list(info, written.image_list, unlabelled)
    values = _config_values(written.config)
    budget = _config_values(written.fcmae_config)['iters']
    starts = [Start('fcmae', budget, lr=lrs.get('fcmae')),
              Start('random', 0, lr=lrs.get('random'))]
    path = None if init is None else _check_init(init, arch)
    if path is not None:
        starts.append(Start('init', 0, init_options(path), lrs.get('init'),
                            path))
    sweep = None
    if any(s.lr is None for s in starts):
        sweep = write_sweep_split(info, osp.join(work, 'sweep'), seed)
    fine = values['iters']
    sweep_iters = sweep_iters or max(SMOKE_ITERS, int(fine * SWEEP_SHARE))
    guard_reuse(work, dict(
        config=file_digest(written.config),
        fcmae_config=file_digest(written.fcmae_config),
        image_list=file_digest(written.image_list), seed=seed,
        sweep_iters=sweep_iters, init=path))
    return DataPlan(
        info=info, work=work, arch=arch, written=written, budget=budget,
        iters=fine, sweep_iters=sweep_iters,
        base_lr=values['lr'], grid=rate_grid(values['lr'], smoke),
        starts=starts, seeds=list(seeds) if seeds else [seed], seed=seed,
        options=[NO_VALIDATION] + picture_options(info.task),
        pretrain_images=counts, sweep=sweep, unlabelled=unlabelled,
        smoke=smoke, bands=bands)


def _task(name: str, plan: DataPlan, start: Start, options: List[str]
          ) -> payoff.Downstream:
    return payoff.Downstream(name, plan.written.config,
                             plan.options + options + start.options,
                             budgets=[start.budget])


def sweep_tasks(plan: DataPlan) -> List[payoff.Downstream]:
    """The sweep's runs: each start without a given rate, at each rate of
    ``plan.grid``, on sweep-train / sweep-val, ``plan.sweep_iters`` long
    (named ``sweep/<start>_lr<rate>``)."""
    if plan.sweep is None:
        return []
    shorter = stretch_schedule(plan.written.config, plan.sweep_iters)
    return [_task(f'sweep/{start.name}_lr{lr:g}', plan, start,
                  plan.sweep.options + shorter + [lr_option(lr)])
            for start in plan.starts if start.lr is None
            for lr in plan.grid]


def run_name(start: str, lr: float) -> str:
    """A fine-tuning's name (and folder): ``<start>_lr<rate>``, so that a
    run at another rate is never taken for a finished one."""
    return f'{start}_lr{lr:g}'


def main_tasks(plan: DataPlan, lrs: Dict[str, float]
               ) -> List[payoff.Downstream]:
    """The fine-tuning runs: each start at its rate (``lrs``), named by
    :func:`run_name`."""
    return [_task(run_name(start.name, lrs[start.name]), plan, start,
                  [lr_option(lrs[start.name])]) for start in plan.starts]


def run_dir(plan: DataPlan, start: str, lr: float, seed: int) -> str:
    """The work dir of a start's fine-tuning at ``lr`` with ``seed``."""
    return osp.join(plan.work, run_name(start, lr),
                    f'b{plan.start(start).budget}_s{seed}')


def guard_reuse(work: str, settings: Dict) -> None:
    """Record in ``work/plan.json`` what the finished stages there were
    run with (the written configs and lists by content, the seed, the
    sweep's length, ``--init``); a later call with other settings stops
    here instead of reusing them.

    Raises:
        DataJobError: ``work`` holds stages of other settings.
    """
    record = osp.join(work, 'plan.json')
    before = read_json(record)
    if before is not None and before != settings:
        changed = sorted(k for k in set(before) | set(settings)
                         if before.get(k) != settings.get(k))
        raise DataJobError(
            f'{work} holds runs made with other settings ({", ".join(changed)}'
            ' changed); start over with --fresh, or use another --work-dir')
    write_json(record, settings)
