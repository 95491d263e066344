"""Run-time adjustments shared by tools/train.py and tools/test.py: the
command-line arguments both take, loading a config with them, and building
mmengine's Runner for this machine."""
import argparse
import os
import os.path as osp
import pickle
from typing import Any, Optional

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import HistoryBuffer, print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .utils.config import config_dicts, revert_sync_bn


def enable_amp(cfg: Config) -> None:
    """Switch the optimiser wrapper to mmengine's AmpOptimWrapper (fp16 with
    dynamic loss scaling on a GPU). On a CPU-only machine this raises a
    clear error: mmengine 0.10's AmpOptimWrapper asserts a CUDA / NPU / MLU
    / MUSA device in its constructor, so it cannot run bf16 autocast on CPU
    (the models themselves do: tests/test_models/test_mixed_precision.py)."""
    if not torch.cuda.is_available():
        raise RuntimeError('--amp needs a GPU: mmengine\'s AmpOptimWrapper '
                           'requires a CUDA/NPU/MLU/MUSA device and has no CPU '
                           '(bf16) mode; drop --amp on this machine')
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper != 'AmpOptimWrapper':
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def merge_cfg_options(cfg: Config, options: Optional[dict]) -> None:
    """``--cfg-options`` as mmengine applies them, except that a dotted key may
    also fill an entry that is ``None`` in the config, e.g.
    ``model.backbone.init_cfg.type=Pretrained`` where ``init_cfg=None``."""
    if not options:
        return
    for key in options:
        node = cfg
        parts = key.split('.')
        for i, part in enumerate(parts[:-1]):
            if not hasattr(node, 'keys') or part not in node:  # Config or dict
                break
            if node[part] is None:
                node[part] = dict()
            node = node[part]
    cfg.merge_from_dict(options)


def fix_collate_scope(cfg: Config) -> None:
    """Drop the ``_scope_`` key that mmengine adds to the dicts of a base
    config inherited across packages (``mmpretrain::...``): the Runner passes
    every key of ``collate_fn`` to the function, which then fails with
    "default_collate() got an unexpected keyword argument '_scope_'"."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if isinstance(loader, dict) and isinstance(loader.get('collate_fn'), dict):
            loader['collate_fn'].pop('_scope_', None)


def drop_pretrained(node: Any) -> int:
    """Set every ``Pretrained`` init_cfg in a config tree to None, so that
    building the model downloads nothing; return how many there were."""
    found = [d for d in config_dicts(node) if isinstance(d.get('init_cfg'), dict)
             and d['init_cfg'].get('type') == 'Pretrained']
    for owner in found:
        owner['init_cfg'] = None
    return len(found)


def adapt_to_machine(cfg: Config) -> None:
    """Make a GPU recipe run on what this machine has. Without CUDA: the gloo
    backend for distributed runs (the process group is started here, as
    mmengine's ``init_dist`` would call ``torch.cuda.set_device``), DDP on CPU
    modules, BN instead of SyncBN (which needs CUDA) and the fp32 optimiser
    wrapper instead of AMP. Each change is logged."""
    if torch.cuda.is_available():
        return
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
        print_log('no CUDA: distributed backend nccl -> gloo', logger='current')
    if cfg.get('launcher', 'none') != 'none':
        if not torch.distributed.is_initialized():
            from datetime import timedelta
            from .engine.distributed import set_dist_timeout
            torch.distributed.init_process_group(
                backend='gloo',
                timeout=timedelta(seconds=set_dist_timeout(cfg)))
        wrapper_cfg = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel', broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        wrapper_cfg['device_ids'] = None  # a CPU module
        cfg.model_wrapper_cfg = wrapper_cfg
    if revert_sync_bn(cfg.get('model', {})):
        print_log('no CUDA: SyncBN -> BN', logger='current')
    wrapper = cfg.get('optim_wrapper', {})
    if wrapper.get('type') == 'AmpOptimWrapper':
        wrapper['type'] = 'OptimWrapper'
        wrapper.pop('loss_scale', None)
        print_log('no CUDA: AmpOptimWrapper -> OptimWrapper (fp32)',
                  logger='current')


def _history_buffer_method(obj: object, name: str) -> object:
    """Stand-in for ``getattr`` while unpickling: mmengine's HistoryBuffer
    pickles its statistics methods (``getattr(HistoryBuffer, 'mean')``);
    nothing else may be looked up."""
    if (obj is HistoryBuffer or isinstance(obj, HistoryBuffer)) \
            and not name.startswith('_'):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({type(obj).__name__}, {name!r}) in a checkpoint')


def trust_mmengine_checkpoints() -> None:
    """Let torch's weights-only loader (the default since torch 2.6) read the
    non-tensor objects that mmengine itself writes into checkpoints (message
    hub buffers, numpy values), so ``--resume``, ``load_from`` and
    tools/test.py work on them, without allowing arbitrary code."""
    core = getattr(np, '_core', None) or np.core
    types = [HistoryBuffer, np.ndarray, np.dtype, core.multiarray._reconstruct,
             core.multiarray.scalar, (_history_buffer_method, 'builtins.getattr')]
    types += [cls for cls in vars(np.dtypes).values()
              if isinstance(cls, type) and issubclass(cls, np.dtype)]
    torch.serialization.add_safe_globals(types)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments tools/train.py and tools/test.py share."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and '
                        'metrics go (default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: Optional[list] = None) -> argparse.Namespace:
    """Parse ``argv``; export ``LOCAL_RANK`` for launchers that pass
    ``--local-rank`` instead of setting it."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` with the common arguments applied: launcher,
    ``--cfg-options`` and the work dir (default ``work_dirs/<config name>``)."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def prepare_config(cfg: Config) -> None:
    """The last edits before building the Runner: the collate scope fix, the
    collective timeout (``env_cfg.dist_cfg.timeout``, ``MMCNV2_DIST_TIMEOUT``)
    and the adaptation to this machine."""
    from .engine.distributed import set_dist_timeout
    fix_collate_scope(cfg)
    set_dist_timeout(cfg)
    adapt_to_machine(cfg)


def build_runner(cfg: Config) -> Runner:
    """Build the Runner of ``cfg`` (or the config's own ``runner_type``),
    able to load mmengine's own checkpoints and no code-running pickle, with
    atomic checkpoints, resume that falls back past damaged checkpoints,
    preemption handling and clear errors for corrupt images
    (:mod:`mmconvnextv2.engine`)."""
    from .checkpoint.io import use_for_mmengine
    from .engine import make_reliable
    trust_mmengine_checkpoints()
    use_for_mmengine()
    make_reliable(cfg)
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
