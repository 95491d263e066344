"""The loss-step check of a (swapped) config: build its model on CPU and
train one step on generated inputs of its task (``--check``)."""
import os.path as osp
from typing import Any, Callable, Dict, Tuple

import torch
from mmengine.config import Config

from ..runtime import drop_pretrained
from ..utils import (build_model, config_dicts, det_inputs, loss_step,
                     quiet_init, reid_inputs, revert_sync_bn, seg_inputs)
from .probe import find_backbone
from .tree import Path, get_path, plain

__all__ = ['model_num_classes', 'check_config']


def model_num_classes(model: dict) -> int:
    """The fewest classes any head of ``model`` states (labels stay below)."""
    counts = [d[k] for d in config_dicts(model) for k in
              ('num_classes', 'num_things_classes', 'num_stuff_classes')
              if isinstance(d.get(k), int) and d[k] > 0]
    return min(counts) if counts else 2


def _checkable_config(path: str, size: Tuple[int, int]
                      ) -> Tuple[Config, Path, dict, bool]:
    """The config of ``path`` made to build and step on CPU: backbone
    weights only from a local file, no other ``Pretrained`` weights, BN for
    SyncBN, no batch augments, the preprocessor padding to ``size``.
    Returns it, the path of the backbone's owner, the backbone's init_cfg
    and whether that is loaded."""
    cfg = Config.fromfile(path)
    model_cfg = cfg.model
    owner_path = find_backbone(plain(model_cfg))
    backbone = get_path(dict(model=model_cfg), owner_path + ('backbone', ))
    init = backbone.get('init_cfg') or {}
    local = init.get('type') == 'Pretrained' and osp.exists(
        str(init.get('checkpoint')))
    kept = backbone.pop('init_cfg', None) if local else None
    drop_pretrained(model_cfg)
    if model_cfg.get('pretrained'):  # mmseg's shortcut to backbone weights
        model_cfg.pretrained = None
    if kept is not None:
        backbone['init_cfg'] = kept
    revert_sync_bn(model_cfg)
    for sub in config_dicts(model_cfg):
        if 'batch_augments' in sub:
            sub['batch_augments'] = None
        if sub.get('type', '').endswith(('DataPreProcessor', 'DataPreprocessor')) \
                and 'size' in sub:
            sub['size'] = tuple(size)
    return cfg, owner_path, init, local


def _task_inputs(cfg: Config, size: Tuple[int, int], batch: int,
                 classes: int) -> dict:
    """Generated inputs of the model's task: segmentation (mmseg), person
    crops, 2 per identity (a ReID preprocessor), else detection (video for
    a tracker)."""
    shapes = [tuple(size)] * batch
    preprocessor = str((cfg.model.get('data_preprocessor') or {}).get('type'))
    if cfg.default_scope == 'mmseg':
        return seg_inputs(shapes, classes, ignored_band=False)
    if 'ReID' in preprocessor:
        return reid_inputs([(2 * size[0], size[1])] * 2 * batch, classes)
    return det_inputs(shapes, classes, video='Track' in preprocessor)


def _publish_loop_info(model: torch.nn.Module) -> None:
    """What a runner's loops publish: the epoch (as mmdet's
    SetEpochInfoHook) and, in the message hub, the epoch and iteration
    (heads that switch on them, TOOD's, read them there)."""
    from mmengine.logging import MessageHub
    if hasattr(model, 'set_epoch'):
        model.set_epoch(0)
    hub = MessageHub.get_current_instance()
    for key in ('epoch', 'iter'):
        if hub.get_info(key) is None:
            hub.update_info(key, 0)


def _step(model: torch.nn.Module, data: dict, cfg: Config, owner_path: Path,
          inner_data: Callable[[], dict]) -> Tuple[Dict[str, Any], str]:
    """One loss step of ``model``, else (a wrapper that does not train on
    plain inputs) of the first inner model that owns the backbone and trains
    on its own (a semi-supervised wrapper builds it as ``student``) on
    ``inner_data()``: the losses and the name of the module that ran."""
    try:
        return loss_step(model, data), 'model'
    except Exception:
        if owner_path == ('model', ):
            raise
        name, inner = next((n, m) for n, m in model.named_modules()
                           if n and hasattr(m, 'loss') and isinstance(
                               getattr(m, 'backbone', None), torch.nn.Module))
        model.zero_grad()
        losses = loss_step(inner, inner_data() if cfg.default_scope != 'mmseg'
                           else data)
        return losses, f'model.{name}'


def check_config(path: str, size: Tuple[int, int] = (128, 128),
                 batch: int = 2) -> Dict[str, Any]:
    """Build the model of a (swapped) config on CPU and run one loss step on
    generated inputs of its task.

    SyncBN becomes BN; ``Pretrained`` weights are loaded only from a local
    file (URLs are not fetched); the data preprocessor pads to ``size`` and
    its batch augments are off (speed only). A model whose backbone sits in
    a wrapper that does not train on plain inputs (a tracker, a
    semi-supervised teacher-student) is checked through that inner model.

    Returns:
        ``params`` (whole model), ``losses`` (name -> value), ``trained``
        (the module that ran the step), ``init`` (what was loaded) and
        ``model`` (after the step, gradients kept).
    """
    from mmengine.model import revert_sync_batchnorm
    cfg, owner_path, init, local = _checkable_config(path, size)
    model = build_model(cfg, init=False)
    quiet_init(model)
    model = revert_sync_batchnorm(model)
    params = sum(p.numel() for p in model.parameters())
    classes = model_num_classes(plain(cfg.model))
    data = _task_inputs(cfg, size, batch, classes)
    _publish_loop_info(model)
    losses, trained = _step(
        model, data, cfg, owner_path,
        lambda: det_inputs([tuple(size)] * batch, classes))
    losses = {k: [t.detach() for t in v] if isinstance(v, (list, tuple))
              else v.detach() for k, v in losses.items()}
    return dict(params=params, trained=trained, model=model,
                init=(f'loaded {init.get("checkpoint")}' if local else
                      'random (URL not fetched)' if init else 'random'),
                losses={k: float(sum(v) if isinstance(v, (list, tuple)) else v)
                        for k, v in losses.items() if 'loss' in k})
