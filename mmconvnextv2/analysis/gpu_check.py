"""The GPU check: what a CUDA machine measures, as one report.

``backbone``: forward + backward images/s of ours, mmpretrain's ConvNeXt and
timm's convnextv2 on identical weights; ``fcmae``: one FCMAE training step,
sparse encoder vs the dense-masked reference, against the FLOP limit of
the same shapes (:mod:`.fcmae_flops`); ``fcmae_compiled``: the sparse
FCMAE step eager vs ``torch.compile`` (``reduce-overhead``: CUDA graphs),
for the small archs whose steps are launch-bound; ``train_steps``:
real-resolution training steps of Mask R-CNN-base and UperNet-base built
from our configs, and of mmdet's / mmseg's own ConvNeXt (V1) configs at the
same size. Every item is measured on its own (one that fails is
recorded with its error). A dry run measures every item on CPU at tiny
sizes. ``tools/analysis_tools/gpu_check.py`` is its command line.
"""
import json
import os.path as osp
import platform
import statistics
import time
import traceback
from contextlib import nullcontext
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from mmconvnextv2.utils import read_json, time_turns

from .benchmarks import build_fcmae, build_models, dense_masked_loss
from .fcmae_flops import fcmae_flop_limit
from .runner import repo_root

__all__ = ['SCHEMA', 'SECTIONS', 'TRAIN_STEPS', 'environment',
           'check_backbone', 'check_fcmae', 'check_fcmae_compiled',
           'check_train_step', 'run_item', 'run_check', 'merge_previous']

SCHEMA = 1
SECTIONS = ('backbone', 'fcmae', 'fcmae_compiled', 'train_steps')
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


def reset_peak(device: str) -> None:
    """Start a new peak-memory measurement (CUDA only)."""
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()


def peak_mib(device: str) -> Optional[float]:
    """Peak allocated MiB since :func:`reset_peak` (None off CUDA)."""
    if device != 'cuda':
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def median_seconds(step: Callable[[], None], device: str, warmup: int,
                   repeats: int) -> float:
    """Median seconds of ``step`` over ``repeats`` after ``warmup``."""
    return statistics.median(
        time_turns({'step': step}, repeats, warmup, device)['step'])


def autocast(device: str, dtype: Optional[torch.dtype]):
    """``torch.autocast`` for ``dtype`` (None: full precision)."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device, dtype=dtype)


def _scaler(device: str, dtype: Optional[torch.dtype]) -> Any:
    """fp16 needs loss scaling (as mmengine's AmpOptimWrapper); bf16 and fp32
    do not."""
    return torch.amp.GradScaler(device, enabled=dtype == torch.float16)


def environment(device: str, dtype: Optional[torch.dtype],
                dry_run: bool) -> Dict[str, Any]:
    """What ran the check: device, versions, and whether mmcv's compiled ops
    run on this device (Mask R-CNN needs its RoIAlign and NMS)."""
    env: Dict[str, Any] = dict(
        device=torch.cuda.get_device_name() if device == 'cuda' else
        platform.processor() or 'cpu',
        torch=torch.__version__, cuda=torch.version.cuda,
        python=platform.python_version(), amp_dtype=str(dtype).split('.')[-1],
        dry_run=dry_run, cpu_threads=torch.get_num_threads())
    try:
        import mmcv
        from mmcv.ops import nms
        boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]],
                             device=device)
        nms(boxes, torch.tensor([0.9, 0.8], device=device), 0.5)
        env['mmcv'] = mmcv.__version__
        env['mmcv_ops_on_device'] = True
    except Exception as err:  # noqa: BLE001  (recorded, not fatal)
        env['mmcv_ops_on_device'] = False
        env['mmcv_ops_error'] = f'{type(err).__name__}: {err}'[:300]
    return env


def check_backbone(arch: str, batch: int, size: int, device: str,
                   dtype: Optional[torch.dtype], channels_last: bool,
                   warmup: int, repeats: int) -> Dict[str, Any]:
    """Images/s of the three implementations (one after the other: taking
    turns each round is not needed on a GPU)."""
    torch.manual_seed(0)
    models = build_models(arch)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(batch, 3, size, size, device=device).contiguous(
        memory_format=fmt)
    result: Dict[str, Any] = dict(arch=arch, batch=batch, size=size,
                                  channels_last=channels_last, img_per_s={})
    for name, model in models.items():
        model.to(device).train()
        if channels_last:
            model.to(memory_format=torch.channels_last)

        def step(model: torch.nn.Module = model) -> None:
            model.zero_grad(set_to_none=True)
            with autocast(device, dtype):
                out = model(x)
            out = out[-1] if isinstance(out, tuple) else out
            out.float().pow(2).mean().backward()

        reset_peak(device)
        seconds = median_seconds(step, device, warmup, repeats)
        result['img_per_s'][name.split()[0]] = round(batch / seconds, 1)
        if name.startswith('ours'):
            result['peak_mib_ours'] = peak_mib(device)
        model.cpu()
    ips = result['img_per_s']
    result['ours_vs_timm'] = round(ips['ours'] / ips['timm'], 3)
    result['ours_vs_mmpretrain'] = round(ips['ours'] / ips['mmpretrain'], 3)
    return result


def check_fcmae(arch: str, batch: int, size: int, device: str,
                dtype: Optional[torch.dtype], warmup: int,
                repeats: int) -> Dict[str, Any]:
    """FCMAE step: the sparse encoder vs the dense-masked reference."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = build_fcmae(arch).to(device).train()
    x = torch.randn(batch, 3, size, size, device=device)
    scaler = _scaler(device, dtype)
    paths = {'sparse': lambda: model.loss(x, [])['loss'],
             'dense_masked': lambda: dense_masked_loss(model, x)}
    result: Dict[str, Any] = dict(arch=arch, batch=batch, size=size,
                                  mask_ratio=model.mask_ratio, step_ms={},
                                  peak_mib={})
    for name, loss_fn in paths.items():

        def step(loss_fn: Callable[[], torch.Tensor] = loss_fn) -> None:
            model.zero_grad(set_to_none=True)
            with autocast(device, dtype):
                loss = loss_fn()
            scaler.scale(loss).backward()

        reset_peak(device)
        result['step_ms'][name] = round(
            1000 * median_seconds(step, device, warmup, repeats), 2)
        result['peak_mib'][name] = peak_mib(device)
    times = result['step_ms']
    result['dense_over_sparse'] = round(times['dense_masked'] / times['sparse'], 3)
    result.update(fcmae_flop_limit(arch, size, model.mask_ratio))
    result['share_of_flop_limit'] = round(
        result['dense_over_sparse'] / result['flop_limit'], 3)
    return result


def check_fcmae_compiled(arch: str, batch: int, size: int, device: str,
                         dtype: Optional[torch.dtype], warmup: int,
                         repeats: int, mode: str = 'reduce-overhead',
                         backend: str = 'inductor') -> Dict[str, Any]:
    """The sparse FCMAE step eager vs its loss compiled with
    ``torch.compile(mode=mode, backend=backend)`` (the backward through
    AOT autograd); ``compile_s`` is the first, compiling call."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = build_fcmae(arch).to(device).train()
    x = torch.randn(batch, 3, size, size, device=device)
    scaler = _scaler(device, dtype)

    def loss_of(inputs: torch.Tensor) -> torch.Tensor:
        return model.loss(inputs, [])['loss']

    compiled = torch.compile(loss_of, mode=mode, backend=backend)
    result: Dict[str, Any] = dict(arch=arch, batch=batch, size=size,
                                  mode=mode, backend=backend, step_ms={})

    def step(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        model.zero_grad(set_to_none=True)
        with autocast(device, dtype):
            loss = fn(x)
        scaler.scale(loss).backward()

    start = time.perf_counter()
    step(compiled)
    result['compile_s'] = round(time.perf_counter() - start, 1)
    for name, fn in (('eager', loss_of), ('compiled', compiled)):
        result['step_ms'][name] = round(1000 * median_seconds(
            lambda fn=fn: step(fn), device, warmup, repeats), 2)
    result['eager_over_compiled'] = round(
        result['step_ms']['eager'] / result['step_ms']['compiled'], 3)
    return result


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
    scaler = _scaler(device, dtype)
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


def run_item(report: Dict[str, Any], section: str,
             fn: Callable[[], Dict[str, Any]], label: str) -> None:
    """Run one measured item into ``report[section]``, printing it; on
    failure record its error (and ``report['failed']``) and go on."""
    start = time.perf_counter()
    try:
        item = fn()
    except Exception as err:  # noqa: BLE001  (recorded, the rest still runs)
        item = dict(item=label, error=f'{type(err).__name__}: {err}'[:500],
                    traceback=traceback.format_exc()[-2000:])
        report['failed'].append(f'{section} {label}')
    item['wall_s'] = round(time.perf_counter() - start, 1)
    report[section].append(item)
    print(json.dumps({section: item}, default=str)[:600], flush=True)
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _run_cases(report: Dict[str, Any], section: str,
               cases: List[Tuple[str, int]], small: bool,
               measure: Callable[[str, int, int], Dict[str, Any]]) -> None:
    """Every ``(arch, batch)`` case at 224 px; a dry run measures one case,
    atto with batch 1 at 64 px."""
    for arch, batch in cases:
        arch, batch, size = ('atto', 1, 64) if small else (arch, batch, 224)
        run_item(report, section,
                 lambda: measure(arch, batch, size), f'{arch}:{batch}')
        if small:
            break


def run_check(sections: List[str], backbone_cases: List[Tuple[str, int]],
              fcmae_cases: List[Tuple[str, int]], train_steps: List[str],
              dtype: Optional[torch.dtype], channels_last: bool,
              dry_run: bool, warmup: int, repeats: int,
              compile_cases: Sequence[Tuple[str, int]] = (('atto', 64),
                                                          ('tiny', 64))
              ) -> Dict[str, Any]:
    """The report of the asked ``sections`` (CPU and tiny sizes with
    ``dry_run``, where ``warmup``/``repeats`` are 0/1)."""
    device = 'cpu' if dry_run else 'cuda'
    warmup, repeats = (0, 1) if dry_run else (warmup, repeats)
    report: Dict[str, Any] = dict(
        schema=SCHEMA, env=environment(device, dtype, dry_run),
        backbone=[], fcmae=[], fcmae_compiled=[], train_steps=[], failed=[])
    if 'backbone' in sections:
        _run_cases(report, 'backbone', backbone_cases, dry_run,
                   lambda a, b, s: check_backbone(a, b, s, device, dtype,
                                                  channels_last, warmup,
                                                  repeats))
    if 'fcmae' in sections:
        _run_cases(report, 'fcmae', fcmae_cases, dry_run,
                   lambda a, b, s: check_fcmae(a, b, s, device, dtype,
                                               warmup, repeats))
    if 'fcmae_compiled' in sections:
        # the dry run traces without compiling (CPU compilation takes minutes)
        mode, backend = ('default', 'eager') if dry_run else (
            'reduce-overhead', 'inductor')
        _run_cases(report, 'fcmae_compiled', compile_cases, dry_run,
                   lambda a, b, s: check_fcmae_compiled(
                       a, b, s, device, dtype, warmup, repeats, mode, backend))
    if 'train_steps' in sections:
        for step_name in train_steps:
            config, side, kind = TRAIN_STEPS[step_name]
            run_item(report, 'train_steps', lambda: check_train_step(
                step_name, config, 128 if dry_run else side, 2, device, dtype,
                'atto' if dry_run else None, warmup, repeats, kind), step_name)
    return report


def merge_previous(report: Dict[str, Any], path: str,
                   sections: List[str]) -> None:
    """Keep the sections not run now (and their failures) from the report
    in ``path``, if there is one; its environment as ``env_before``."""
    previous = read_json(path) if osp.exists(path) else None
    if previous is None:
        return
    for section in SECTIONS:
        if section not in sections:
            report[section] = previous.get(section, [])
    report['failed'] += [item for item in previous.get('failed', [])
                         if item.split()[0] not in sections]
    report['env_before'] = previous.get('env')
