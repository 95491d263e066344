"""The GPU check: what a CUDA machine measures, as one report.

``backbone``, ``fcmae`` and ``fcmae_compiled`` (:mod:`.gpu_items`):
forward + backward images/s of ours, mmpretrain's ConvNeXt and timm's
convnextv2 on identical weights; one FCMAE training step, sparse encoder vs
the dense-masked reference, against the FLOP limit of the same shapes; the
sparse FCMAE step eager vs ``torch.compile`` (``reduce-overhead``: CUDA
graphs), for the small archs whose steps are launch-bound. ``train_steps``
(:mod:`.gpu_train_steps`): real-resolution training steps of Mask R-CNN-base
and UperNet-base built from our configs, and of mmdet's / mmseg's own
ConvNeXt (V1) configs at the same size. Every item is measured on its own
(one that fails is recorded with its error). A dry run measures every item
on CPU at tiny sizes. ``tools/analysis_tools/gpu_check.py`` is its command
line.
"""
import json
import os.path as osp
import platform
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from mmconvnextv2.utils import read_json

from .gpu_items import check_backbone, check_fcmae, check_fcmae_compiled
from .gpu_train_steps import TRAIN_STEPS, check_train_step

__all__ = ['SCHEMA', 'SECTIONS', 'environment', 'run_item', 'run_check',
           'merge_previous']

SCHEMA = 1
SECTIONS = ('backbone', 'fcmae', 'fcmae_compiled', 'train_steps')


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
