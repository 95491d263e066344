"""The config and the whole-model checkpoint that inference and export run:
the task a config serves, its classes, and a strict, checked load of any
checkpoint layout this package reads (:mod:`mmconvnextv2.checkpoint`), so
that

* a classifier config also takes the official, timm, mmpretrain and Hugging
  Face files directly (their layouts are converted on load), and
* a checkpoint of another task or another size fails with one line naming it,
  instead of loading non-strictly into a model that then predicts noise;
* a 3-channel (RGB) checkpoint starts a model of other ``in_channels`` by
  the stem rule of :mod:`mmconvnextv2.checkpoint.channels` (logged), and
  one of C' channels is refused for a model of C != C', naming both.
"""
from collections import OrderedDict
from typing import Any, Dict, Tuple, Union

from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from ..checkpoint import (backbone_part, check_arch, convert_state,
                         detect_layout, read_checkpoint, unwrap_state)
from ..checkpoint.channels import STEM_KEY, fit_stem, stem_in_channels
from ..runtime import drop_pretrained
from ..utils.config import innermost_dataset

# the config's default scope -> the task this module serves
SCOPE_TASKS = {'mmdet': 'det', 'mmseg': 'seg', 'mmpretrain': 'cls'}
TASK_NAMES = {
    'det': 'detection (mmdet)',
    'seg': 'semantic segmentation (mmseg)',
    'cls': 'image classification (mmpretrain)',
    'fcmae': 'FCMAE pre-training',
    'backbone': 'backbone-only',
}


# --------------------------------------------------------------- the config
def load_config(config: Union[str, Config]) -> Config:
    """Read a config (importing its ``custom_imports``), without the
    ``Pretrained`` initialisations: the weights come from the checkpoint.
    The ``stem_rule`` the backbone's init_cfg names (if any) is kept as the
    config's top-level ``stem_rule``, for :func:`load_model_checkpoint`."""
    cfg = config.copy() if isinstance(config, Config) else Config.fromfile(
        config)
    backbone = cfg.get('model', {}).get('backbone') or {}
    init_cfg = backbone.get('init_cfg') if isinstance(backbone, dict) else None
    if isinstance(init_cfg, dict) and 'stem_rule' in init_cfg:
        cfg.stem_rule = init_cfg['stem_rule']
    drop_pretrained(cfg.get('model', {}))
    return cfg


def config_task(cfg: Config, name: str = 'config') -> str:
    """``'det'``, ``'seg'`` or ``'cls'`` from the config's scope and model.

    Raises:
        ValueError: a config of another kind (FCMAE pre-training, ...).
    """
    scope = cfg.get('default_scope')
    task = SCOPE_TASKS.get(scope)
    model_type = str(cfg.get('model', {}).get('type', ''))
    if task == 'cls' and model_type.split('.')[-1] != 'ImageClassifier':
        task = None
    if task is None:
        raise ValueError(
            f'{name} builds a {model_type or "?"} model (scope {scope!r}); '
            'inference and export serve detection (mmdet), segmentation '
            '(mmseg) and classification (mmpretrain ImageClassifier) '
            'configs' + ('; to look at FCMAE reconstructions use '
                         'tools/misc/visualize_fcmae.py'
                         if 'FCMAE' in model_type else ''))
    return task


def dataset_meta(cfg: Config) -> Dict[str, Any]:
    """Class names (and palette) of the config's test dataset: its dataset
    class's ``METAINFO`` updated by the config's ``metainfo``."""
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    dataset = loader.get('dataset', {}) if isinstance(loader, dict) else {}
    dataset = innermost_dataset(dataset)
    meta: Dict[str, Any] = {}
    if dataset.get('type'):
        from mmengine.registry import DATASETS
        scope = cfg.get('default_scope')
        with DefaultScope.overwrite_default_scope(scope):
            with DATASETS.switch_scope_and_registry(scope) as registry:
                try:
                    cls = registry.get(dataset['type'])
                except KeyError:
                    cls = None
        meta.update(getattr(cls, 'METAINFO', None) or {})
    meta.update(dataset.get('metainfo') or {})
    return {k: v for k, v in meta.items() if k in ('classes', 'palette')}


# ----------------------------------------------------------- the checkpoint
def with_article(noun: str) -> str:
    """``noun`` after 'a' or 'an': 'an image classification'."""
    return ('an ' if noun[0] in 'aeiou' else 'a ') + noun


def checkpoint_task(state: Dict[str, Tensor]) -> str:
    """The task a converted (our layout) state dict was trained for."""
    roots = {k.split('.', 1)[0] for k in state}
    if roots & {'rpn_head', 'roi_head', 'bbox_head', 'mask_head'}:
        return 'det'
    if 'decode_head' in roots:
        return 'seg'
    if 'head' in roots:
        return 'cls'
    if 'neck' in roots and any(k.startswith(('neck.mask_token', 'neck.pred.',
                                             'neck.decoder.')) for k in state):
        return 'fcmae'
    return 'backbone'


def read_model_state(filename: str) -> Tuple[Dict[str, Tensor], dict]:
    """Read a checkpoint of any known layout with the project's reader and
    convert it to our layout; return (state dict, the checkpoint's ``meta``)."""
    ckpt = read_checkpoint(filename, map_location='cpu')
    state = unwrap_state(ckpt)
    try:
        layout = detect_layout(state)
    except ValueError as err:
        raise ValueError(f'checkpoint {filename}: {err}') from err
    meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) else {}
    return convert_state(state, layout), meta


def load_model_checkpoint(model: nn.Module, filename: str, task: str,
                          config_name: str = 'the config',
                          stem_rule: Any = 'mean') -> dict:
    """Load a whole-model checkpoint into ``model`` (a ``task`` model),
    strictly: same task, same backbone size, every weight present with the
    model's shape; a 3-channel stem is adapted to the model's channels by
    ``stem_rule`` (see :func:`~mmconvnextv2.checkpoint.channels.fit_stem`).
    Returns the checkpoint's ``meta`` (may be empty).

    Raises:
        ValueError: another task, another size, a stem of another channel
            count than 3 and the model's, missing or mis-shaped weights
            (each names the checkpoint and what differs).
    """
    state, meta = read_model_state(filename)
    found = checkpoint_task(state)
    if found != task:
        hint = {
            'backbone': ' (only a backbone: fine-tune it with tools/train.py '
                        'first, or export it with --what backbone)',
            'fcmae': ' (a pre-training checkpoint: fine-tune it with '
                     'tools/train.py first, or export it with --what backbone)'
        }.get(found, '')
        raise ValueError(
            f'checkpoint {filename} holds {with_article(TASK_NAMES[found])} '
            f'model{hint}, but {config_name} is '
            f'{with_article(TASK_NAMES[task])} config')
    check_arch(model.backbone, backbone_part(state), filename)
    fit_stem(state, stem_in_channels(model.backbone), filename, stem_rule,
             key='backbone.' + STEM_KEY)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    shapes = [f'{k}: checkpoint {tuple(state[k].shape)} vs model '
              f'{tuple(own[k].shape)}' for k in own
              if k in state and state[k].shape != own[k].shape]
    if missing or shapes:
        problems = []
        if missing:
            problems.append(f'{len(missing)} weight(s) missing, e.g. '
                            f'{", ".join(missing[:3])}')
        if shapes:
            problems.append('shapes differ (another number of classes?): '
                            + '; '.join(shapes[:3]))
        raise ValueError(f'checkpoint {filename} does not fit {config_name}: '
                         + '; '.join(problems))
    model.load_state_dict(
        OrderedDict((k, v) for k, v in state.items() if k in own), strict=True)
    return meta


def model_meta(cfg: Config, checkpoint_meta: dict) -> Dict[str, Any]:
    """Class names and palette: the checkpoint's when it saved them (a
    training run does), else the config's dataset's."""
    meta = dataset_meta(cfg)
    saved = checkpoint_meta.get('dataset_meta') or {}
    if saved.get('classes'):
        meta = {k: v for k, v in saved.items() if k in ('classes', 'palette')}
    if 'classes' in meta:
        meta['classes'] = tuple(meta['classes'])
    return meta


__all__ = [
    'SCOPE_TASKS', 'TASK_NAMES', 'load_config', 'config_task', 'dataset_meta',
    'checkpoint_task', 'read_model_state',
    'load_model_checkpoint', 'model_meta'
]
