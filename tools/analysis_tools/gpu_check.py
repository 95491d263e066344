"""The GPU check: what a CUDA machine measures, in one JSON file.

1. ``backbone``: forward + backward images/s of ours, mmpretrain's ConvNeXt and
   timm's convnextv2 on identical weights (``benchmark_backbone.build_models``),
   with AMP and channels_last, and the peak memory of ours;
2. ``fcmae``: one FCMAE training step, sparse encoder vs the dense-masked
   reference (``benchmark_fcmae``), with AMP: step times, the
   sparse-vs-dense ratio and the peak memory of each;
3. ``train_steps``: real-resolution training steps of Mask R-CNN-base (LSJ,
   1024) and UperNet-base (512) built from our configs, with AMP (GradScaler
   for fp16) and AdamW: median step time, peak memory, the losses.

Every item is measured on its own: one that fails is recorded with its
error and the others still run; the JSON is written atomically. Exit code 1
if any item failed. ``--dry-run`` runs every item on CPU at tiny sizes (atto,
64 px, fp32 unless ``--amp-dtype`` says otherwise) to check the arguments
and the JSON's schema::

    python tools/analysis_tools/gpu_check.py --out work_dirs/gpu_check.json
    python tools/analysis_tools/gpu_check.py --dry-run --out /tmp/check.json
"""
import argparse
import json
import os
import os.path as osp
import platform
import statistics
import sys
import time
import traceback
from contextlib import nullcontext
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # the benchmarks
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCHEMA = 1
TRAIN_STEPS = {  # name: (config, image side)
    'mask_rcnn_base_lsj': (
        'configs/mask_rcnn/'
        'mask-rcnn_convnext-v2-base-fcmae-pre_fpn_8xb2-amp-lsj-3x_coco.py', 1024),
    'upernet_base': (
        'configs/upernet/'
        'upernet_convnext-v2-base-fcmae-pre_8xb2-amp-160k_ade20k-512x512.py', 512),
}


class Clock:
    """Times steps on a device: synchronises CUDA around each, and reads the
    peak allocated memory."""

    def __init__(self, device: str) -> None:
        self.device = device

    def sync(self) -> None:
        if self.device == 'cuda':
            torch.cuda.synchronize()

    def reset_peak(self) -> None:
        if self.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()

    def peak_mib(self) -> Optional[float]:
        if self.device != 'cuda':
            return None
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)

    def median(self, step: Callable[[], None], warmup: int,
               repeats: int) -> float:
        """Median seconds of ``step`` over ``repeats`` after ``warmup``."""
        times = []
        for i in range(warmup + repeats):
            self.sync()
            start = time.perf_counter()
            step()
            self.sync()
            if i >= warmup:
                times.append(time.perf_counter() - start)
        return statistics.median(times)


def autocast(device: str, dtype: Optional[torch.dtype]):
    """``torch.autocast`` for ``dtype`` (None: full precision)."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device, dtype=dtype)


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
    """Images/s of the three implementations (taking turns each round is
    not needed on a GPU: they run one after the other)."""
    from benchmark_backbone import build_models
    torch.manual_seed(0)
    clock = Clock(device)
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

        clock.reset_peak()
        seconds = clock.median(step, warmup, repeats)
        result['img_per_s'][name.split()[0]] = round(batch / seconds, 1)
        if name.startswith('ours'):
            result['peak_mib_ours'] = clock.peak_mib()
        model.cpu()
    ips = result['img_per_s']
    result['ours_vs_timm'] = round(ips['ours'] / ips['timm'], 3)
    result['ours_vs_mmpretrain'] = round(ips['ours'] / ips['mmpretrain'], 3)
    return result


def check_fcmae(arch: str, batch: int, size: int, device: str,
                dtype: Optional[torch.dtype], warmup: int,
                repeats: int) -> Dict[str, Any]:
    """FCMAE step: the sparse encoder vs the dense-masked reference."""
    from benchmark_fcmae import build_fcmae, dense_masked_loss
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    clock = Clock(device)
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

        clock.reset_peak()
        result['step_ms'][name] = round(
            1000 * clock.median(step, warmup, repeats), 2)
        result['peak_mib'][name] = clock.peak_mib()
    times = result['step_ms']
    result['dense_over_sparse'] = round(times['dense_masked'] / times['sparse'], 3)
    return result


def _scaler(device: str, dtype: Optional[torch.dtype]) -> Any:
    """fp16 needs loss scaling (as mmengine's AmpOptimWrapper); bf16 and fp32
    do not."""
    return torch.amp.GradScaler(device, enabled=dtype == torch.float16)


def check_train_step(name: str, config: str, size: int, batch: int,
                     device: str, dtype: Optional[torch.dtype],
                     arch: Optional[str], warmup: int,
                     repeats: int) -> Dict[str, Any]:
    """Training steps of one of our configs on generated inputs of its task:
    preprocessing, losses, scaled backward and an AdamW update."""
    from mmengine.config import Config

    import mmconvnextv2  # noqa: F401
    from mmconvnextv2.runtime import (_revert_sync_bn, config_dicts,
                                      drop_pretrained)
    from mmconvnextv2.swap import model_num_classes
    from mmconvnextv2.testing import (build_model, det_inputs, quiet_init,
                                      seg_inputs)
    cfg = Config.fromfile(osp.join(ROOT, config))
    drop_pretrained(cfg.model)
    _revert_sync_bn(cfg.model)  # one process: no process group for SyncBN
    if arch:  # the dry run: a small backbone (widths from the swap tool),
        cfg = _smaller_backbone(cfg, arch)  # nor padding to 512 / 1024
        for sub in config_dicts(cfg.model):
            if 'batch_augments' in sub:
                sub['batch_augments'] = None
            if str(sub.get('type')).endswith('DataPreProcessor') and 'size' in sub:
                sub['size'] = (size, size)
    torch.manual_seed(0)
    model = build_model(cfg, init=False)
    quiet_init(model)
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

    clock = Clock(device)
    clock.reset_peak()
    seconds = clock.median(step, warmup, repeats)
    return dict(name=name, config=config, size=size, batch=batch,
                params_m=round(sum(p.numel() for p in model.parameters())
                               / 1e6, 1),
                step_ms=round(1000 * seconds, 1), peak_mib=clock.peak_mib(),
                losses=losses)


def _smaller_backbone(cfg: Any, arch: str) -> Any:
    """``cfg`` with an ``arch`` backbone: the swap tool rewrites the widths."""
    from mmengine.config import Config

    from mmconvnextv2.swap import swap_config
    result = swap_config(cfg, 'dry-run', arch=arch)
    cfg.merge_from_dict(dict(model=result.overrides['model']))
    return Config(cfg.to_dict())


def write_json(path: str, report: Dict[str, Any]) -> None:
    """Write ``report`` to ``path`` atomically (temporary file, rename)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(report, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def run_item(report: Dict[str, Any], section: str,
             fn: Callable[[], Dict[str, Any]], label: str) -> None:
    """Run one measured item; on failure record its error and go on."""
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


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True, help='the JSON to write')
    parser.add_argument('--update', action='store_true',
                        help='keep the other sections of an existing --out '
                        '(run the sections in several calls, one JSON)')
    parser.add_argument('--dry-run', action='store_true',
                        help='CPU, atto, tiny sizes: arguments and schema only')
    parser.add_argument('--sections', nargs='+',
                        default=['backbone', 'fcmae', 'train_steps'],
                        choices=['backbone', 'fcmae', 'train_steps'])
    parser.add_argument('--backbone-cases', nargs='+',
                        default=['tiny:4', 'tiny:8', 'base:4', 'base:32'],
                        help='ARCH:BATCH at 224 px')
    parser.add_argument('--fcmae-cases', nargs='+',
                        default=['atto:64', 'base:64'], help='ARCH:BATCH')
    parser.add_argument('--train-steps', nargs='+', default=list(TRAIN_STEPS),
                        choices=list(TRAIN_STEPS))
    parser.add_argument('--amp-dtype', choices=['float16', 'bfloat16', 'none'],
                        help='autocast dtype (default: float16, as mmengine\'s '
                        'AmpOptimWrapper; none in a dry run)')
    parser.add_argument('--no-channels-last', action='store_true')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=10)
    args = parser.parse_args(argv)
    for case in args.backbone_cases + args.fcmae_cases:
        arch, _, batch = case.partition(':')
        if not batch.isdigit() or int(batch) < 1:
            parser.error(f'case {case!r} is not ARCH:BATCH (e.g. base:32)')
    if not args.dry_run and not torch.cuda.is_available():
        parser.error('no CUDA device here: run it on a GPU machine, or use '
                     '--dry-run to check it on CPU')
    return args


def cases(items: List[str]) -> List[Tuple[str, int]]:
    return [(c.split(':')[0], int(c.split(':')[1])) for c in items]


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    device = 'cpu' if args.dry_run else 'cuda'
    name = args.amp_dtype or ('none' if args.dry_run else 'float16')
    dtype = None if name == 'none' else getattr(torch, name)
    small = args.dry_run
    warmup, repeats = (0, 1) if small else (args.warmup, args.repeats)
    report: Dict[str, Any] = dict(
        schema=SCHEMA, env=environment(device, dtype, args.dry_run),
        backbone=[], fcmae=[], train_steps=[], failed=[])
    if 'backbone' in args.sections:
        for arch, batch in cases(args.backbone_cases):
            arch, batch, size = ('atto', 1, 64) if small else (arch, batch, 224)
            run_item(report, 'backbone', lambda: check_backbone(
                arch, batch, size, device, dtype, not args.no_channels_last,
                warmup, repeats), f'{arch}:{batch}')
            if small:
                break
    if 'fcmae' in args.sections:
        for arch, batch in cases(args.fcmae_cases):
            arch, batch, size = ('atto', 1, 64) if small else (arch, batch, 224)
            run_item(report, 'fcmae', lambda: check_fcmae(
                arch, batch, size, device, dtype, warmup, repeats),
                f'{arch}:{batch}')
            if small:
                break
    if 'train_steps' in args.sections:
        for step_name in args.train_steps:
            config, side = TRAIN_STEPS[step_name]
            run_item(report, 'train_steps', lambda: check_train_step(
                step_name, config, 128 if small else side, 2,
                device, dtype, 'atto' if small else None, warmup, repeats),
                step_name)
    if args.update and osp.exists(args.out):
        with open(args.out) as f:
            previous = json.load(f)
        for section in ('backbone', 'fcmae', 'train_steps'):
            if section not in args.sections:
                report[section] = previous.get(section, [])
        report['failed'] += [item for item in previous.get('failed', [])
                             if item.split()[0] not in args.sections]
        report['env_before'] = previous.get('env')
    write_json(args.out, report)
    print(f'wrote {args.out}; failed: {report["failed"] or "none"}')
    return 1 if report['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
