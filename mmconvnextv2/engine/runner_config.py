"""The config edits that give every Runner of ours the reliability
mechanisms, applied by :func:`mmconvnextv2.runtime.build_runner` (stock
configs need no change):

* ``default_hooks.checkpoint``: mmengine's ``CheckpointHook`` becomes
  :class:`AtomicCheckpointHook` (same arguments);
* ``custom_hooks``: :class:`PreemptionHook`, :class:`RandomStateHook`,
  :class:`DistWatchdogHook` and :class:`NonFiniteLossHook` (``max_skips``
  from ``max_nonfinite_skips`` / ``MMCNV2_MAX_NONFINITE_SKIPS``) for
  training; :class:`StemChannelsHook` for every run (``load_from`` and
  ``--resume`` across channel counts);
* ``env_cfg.dist_cfg.timeout``: the collective timeout
  (:func:`set_dist_timeout`: ``MMCNV2_DIST_TIMEOUT``, the config, or 600 s);
* dataloader pipelines: ``LoadImageFromFile`` becomes
  :class:`CheckedLoadImageFromFile` (same arguments);
* ``resume``: the checkpoint is chosen by :func:`find_resume_checkpoint`
  (fallback past damaged files) or checked (``--resume PATH``), and
  ``randomness.seed`` becomes the checkpoint's seed. mmengine restores that
  seed only after it has built the train dataloader, whose sampler and
  worker seeds then come from a new seed when the config sets none, so the
  resumed run would see its data in another order. A worker group that
  torchrun restarted (``TORCHELASTIC_RESTART_COUNT`` > 0) resumes from the
  newest readable checkpoint of the work dir, ``--resume`` or not, unless
  the group before it stopped with an error a restart cannot mend
  (:func:`check_previous_failure`).
"""
import os.path as osp

from mmengine.config import Config
from mmengine.logging import print_log

from ..utils.config import config_dicts
from .distributed import (check_previous_failure, restart_count,
                          set_dist_timeout)
from .hooks.nonfinite_loss_hook import nonfinite_skips
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


def _add_custom_hooks(cfg: Config, training: bool) -> None:
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks if isinstance(h, dict)}
    kinds = ('PreemptionHook', 'RandomStateHook', 'DistWatchdogHook',
             'StemChannelsHook') if training else ('StemChannelsHook', )
    for kind in kinds:
        if kind not in present:
            hooks.append(dict(type=kind))
    if training and 'NonFiniteLossHook' not in present:
        hooks.append(dict(type='NonFiniteLossHook',
                          max_skips=nonfinite_skips(cfg)))
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


def _resume_after_restart(cfg: Config) -> bool:
    """A worker group restarted by torchrun continues from the newest
    readable checkpoint of the work dir (a fresh start, with the config's
    ``load_from``, if there is none yet). Return whether it resumes."""
    restarts = restart_count()
    work_dir = cfg.get('work_dir')
    if not restarts or not work_dir or not osp.isdir(work_dir):
        return False
    for path in remove_stale_temporaries(work_dir):
        print_log(f'removed {path}, left by an interrupted save',
                  logger='current')
    chosen = find_resume_checkpoint(work_dir)
    if chosen is None:
        print_log(f'worker group restart {restarts}: no checkpoint in '
                  f'{work_dir} yet, starting again', logger='current',
                  level=30)
        return False
    print_log(f'worker group restart {restarts}: resuming from {chosen}',
              logger='current', level=30)
    cfg.resume, cfg.load_from = True, chosen
    _keep_checkpoint_seed(cfg, chosen)
    return True


def _choose_resume_checkpoint(cfg: Config) -> None:
    if cfg.get('train_cfg'):
        check_previous_failure(cfg.get('work_dir'))
    if restart_count() and cfg.get('train_cfg') and \
            _resume_after_restart(cfg):
        return
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
    training = bool('train_cfg' in cfg and cfg.get('train_cfg'))
    if training:
        _replace_checkpoint_hook(cfg)
    _add_custom_hooks(cfg, training)
    set_dist_timeout(cfg)
    _replace_image_loaders(cfg)
    _choose_resume_checkpoint(cfg)
