"""The GPU check's training steps (``train_steps``): real-resolution steps
of Mask R-CNN-base and UperNet-base built from our configs, and of mmdet's /
mmseg's own ConvNeXt (V1) configs at the same size, on generated inputs of
their task (preprocessing, losses, scaled backward, an AdamW update). The
dry run swaps in an atto backbone and drops the padding to 512 / 1024."""
import os.path as osp
from typing import Any, Dict, Optional, Tuple

import torch

from .gpu_timing import autocast, grad_scaler, median_seconds, peak_mib, \
    reset_peak
from .runner import repo_root

__all__ = ['TRAIN_STEPS', 'V1_ARCHS', 'check_train_step']

TRAIN_STEPS = {  # name: (config, image side, backbone: 'v2' ours / 'v1' upstream)
    'mask_rcnn_base_lsj': (
        'configs/mask_rcnn/'
        'mask-rcnn_convnext-v2-base-fcmae-pre_fpn_8xb2-amp-lsj-3x_coco.py', 1024,
        'v2'),
    'mask_rcnn_base': (
        'configs/mask_rcnn/'
        'mask-rcnn_convnext-v2-base-fcmae-pre_fpn_8xb2-amp-ms-crop-3x_coco.py',
        1024, 'v2'),
    'mask_rcnn_base_v1_mmdet': (
        'mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py',
        1024, 'v1'),
    'upernet_base': (
        'configs/upernet/'
        'upernet_convnext-v2-base-fcmae-pre_8xb2-amp-160k_ade20k-512x512.py', 512,
        'v2'),
    'upernet_base_v1_mmseg': (
        'mmseg::convnext/convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py',
        512, 'v1'),
}
#: mmpretrain ConvNeXt (V1) at base, and a small one for the dry run
V1_ARCHS = {'base': [128, 256, 512, 1024], 'small': [40, 80, 160, 320]}


def _no_padding(cfg: Any, size: int) -> Any:
    """``cfg`` without padding to 512 / 1024: inputs of ``size``."""
    from mmengine.config import Config

    from mmconvnextv2.utils import config_dicts
    cfg = Config(cfg.to_dict())
    for sub in config_dicts(cfg.model):
        if 'batch_augments' in sub:
            sub['batch_augments'] = None
        if str(sub.get('type')).endswith('DataPreProcessor') and 'size' in sub:
            sub['size'] = (size, size)
    return cfg


def _smaller_backbone(cfg: Any, arch: str, size: int) -> Any:
    """``cfg`` with an ``arch`` backbone (the swap tool rewrites the widths)
    and no padding to 512 / 1024: inputs of ``size``."""
    from mmconvnextv2.swap import swap_config
    result = swap_config(cfg, 'dry-run', arch=arch)
    cfg.merge_from_dict(dict(model=result.overrides['model']))
    return _no_padding(cfg, size)


def _v1_backbone(cfg: Any, small: bool) -> None:
    """mmdet's / mmseg's ConvNeXt (V1) config at base (or a small width
    for the dry run), from random weights, its readers' widths to match."""
    widths = V1_ARCHS['small' if small else 'base']
    backbone = cfg.model.backbone
    backbone.arch = dict(depths=[2, 2, 6, 2], channels=widths) if small \
        else 'base'
    backbone.init_cfg = None
    if 'neck' in cfg.model:
        cfg.model.neck.in_channels = widths
    if 'decode_head' in cfg.model:
        cfg.model.decode_head.in_channels = widths
        cfg.model.auxiliary_head.in_channels = widths[2]


def _train_model(config: str, size: int, arch: Optional[str],
                 kind: str = 'v2') -> Tuple[Any, torch.nn.Module]:
    """The config (SyncBN reverted, no pretrained weights; an ``arch``
    backbone in the dry run) and its model, initialised."""
    from mmengine.config import Config

    import mmconvnextv2  # noqa: F401
    from mmconvnextv2.runtime import drop_pretrained
    from mmconvnextv2.utils import build_model, quiet_init, revert_sync_bn
    from mmconvnextv2.swap import resolve_config
    path = resolve_config(config, '.')[0] if '::' in config \
        else osp.join(repo_root(), config)
    cfg = Config.fromfile(path)
    drop_pretrained(cfg.model)
    revert_sync_bn(cfg.model)  # one process: no process group for SyncBN
    if kind == 'v1':
        _v1_backbone(cfg, small=arch is not None)
        if arch:
            cfg = _no_padding(cfg, size)
    elif arch:
        cfg = _smaller_backbone(cfg, arch, size)
    torch.manual_seed(0)
    model = build_model(cfg, init=False)
    quiet_init(model)
    return cfg, model


def check_train_step(name: str, config: str, size: int, batch: int,
                     device: str, dtype: Optional[torch.dtype],
                     arch: Optional[str], warmup: int,
                     repeats: int, kind: str = 'v2') -> Dict[str, Any]:
    """Training steps of one of our configs on generated inputs of its task:
    preprocessing, losses, scaled backward and an AdamW update."""
    from mmconvnextv2.swap import model_num_classes
    from mmconvnextv2.utils import det_inputs, seg_inputs
    cfg, model = _train_model(config, size, arch, kind)
    model = model.to(device).train()
    classes = model_num_classes(cfg.model)
    shapes = [(size, size)] * batch
    data = seg_inputs(shapes, classes) if cfg.default_scope == 'mmseg' \
        else det_inputs(shapes, classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = grad_scaler(device, dtype)
    losses: Dict[str, float] = {}

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(device, dtype):
            batch_data = model.data_preprocessor(data, True)
            parsed = model(**batch_data, mode='loss')
            loss, log_vars = model.parse_losses(parsed)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        losses.update({k: round(float(v), 4) for k, v in log_vars.items()})

    reset_peak(device)
    seconds = median_seconds(step, device, warmup, repeats)
    return dict(name=name, config=config, backbone=kind, size=size,
                batch=batch,
                params_m=round(sum(p.numel() for p in model.parameters())
                               / 1e6, 1),
                step_ms=round(1000 * seconds, 1), peak_mib=peak_mib(device),
                losses=losses)
