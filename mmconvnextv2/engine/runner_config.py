"""The config edits that give every Runner of ours the reliability
mechanisms, applied by :func:`mmconvnextv2.runtime.build_runner` (stock
configs need no change):

* ``default_hooks.checkpoint``: mmengine's ``CheckpointHook`` becomes
  :class:`AtomicCheckpointHook` (same arguments);
* ``custom_hooks``: :class:`PreemptionHook` and :class:`RandomStateHook`;
* dataloader pipelines: ``LoadImageFromFile`` becomes
  :class:`CheckedLoadImageFromFile` (same arguments);
* ``resume``: the checkpoint is chosen by :func:`find_resume_checkpoint`
  (fallback past damaged files) or checked (``--resume PATH``), and
  ``randomness.seed`` becomes the checkpoint's seed. mmengine restores that
  seed only after it has built the train dataloader, whose sampler and
  worker seeds then come from a new seed when the config sets none, so the
  resumed run would see its data in another order.
"""
import os.path as osp

from mmengine.config import Config
from mmengine.logging import print_log

from ..utils.config import config_dicts
from .resume import (check_resume_checkpoint, checkpoint_seed,
                     find_resume_checkpoint, remove_stale_temporaries)

__all__ = ['make_reliable']

_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_UPSTREAM = {
    'CheckpointHook': 'AtomicCheckpointHook',
    'mmengine.CheckpointHook': 'AtomicCheckpointHook',
    'LoadImageFromFile': 'CheckedLoadImageFromFile',
    'mmcv.LoadImageFromFile': 'CheckedLoadImageFromFile',
}




def _replace_checkpoint_hook(cfg: Config) -> None:
    hooks = cfg.get('default_hooks')
    if hooks is None:
        hooks = cfg.default_hooks = dict()
    if 'checkpoint' not in hooks:  # mmengine's default: every epoch
        hooks['checkpoint'] = dict(type='AtomicCheckpointHook', interval=1)
    elif isinstance(hooks['checkpoint'], dict):
        kind = hooks['checkpoint'].get('type')
        hooks['checkpoint']['type'] = _UPSTREAM.get(kind, kind)


def _add_custom_hooks(cfg: Config) -> None:
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks if isinstance(h, dict)}
    for kind in ('PreemptionHook', 'RandomStateHook'):
        if kind not in present:
            hooks.append(dict(type=kind))
    cfg.custom_hooks = hooks


def _replace_image_loaders(cfg: Config) -> None:
    for name in _DATALOADERS:
        for node in config_dicts(cfg.get(name)):
            if node.get('type') in ('LoadImageFromFile',
                                    'mmcv.LoadImageFromFile'):
                node['type'] = 'CheckedLoadImageFromFile'


def _keep_checkpoint_seed(cfg: Config, path: str) -> None:
    seed = checkpoint_seed(path)
    randomness = dict(cfg.get('randomness') or {})
    current = randomness.get('seed')
    if seed is None or seed == current:
        return
    cfg.randomness = dict(randomness, seed=seed)
    was = 'sets none' if current is None else f'set {current}'
    print_log(f'resuming with the seed of {path}, {seed} (the config {was}), '
              'so the data order continues as before', logger='current',
              level=20 if current is None else 30)


def _choose_resume_checkpoint(cfg: Config) -> None:
    if not cfg.get('resume'):
        return
    load_from = cfg.get('load_from')
    if load_from:
        check_resume_checkpoint(load_from)
        _keep_checkpoint_seed(cfg, load_from)
        return
    work_dir = cfg.get('work_dir')
    if not work_dir or not osp.isdir(work_dir):
        return
    for path in remove_stale_temporaries(work_dir):
        print_log(f'removed {path}, left by an interrupted save',
                  logger='current')
    chosen = find_resume_checkpoint(work_dir)
    if chosen is not None:
        cfg.load_from = chosen  # resume=True + load_from: resume from it
        _keep_checkpoint_seed(cfg, chosen)


def make_reliable(cfg: Config) -> None:
    """Apply the edits listed in the module docstring to ``cfg``."""
    if 'train_cfg' in cfg and cfg.get('train_cfg'):
        _replace_checkpoint_hook(cfg)
        _add_custom_hooks(cfg)
    _replace_image_loaders(cfg)
    _choose_resume_checkpoint(cfg)
