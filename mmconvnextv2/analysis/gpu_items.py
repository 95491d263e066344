"""The GPU check's measured kernels: forward + backward images/s of three
implementations of the backbone on identical weights (``backbone``), the
FCMAE step of the sparse encoder vs the dense-masked reference against the
FLOP limit of the same shapes (``fcmae``, :mod:`.fcmae_flops`), and the
sparse step eager vs ``torch.compile`` (``fcmae_compiled``)."""
import time
from typing import Any, Callable, Dict, Optional

import torch

from .benchmarks import build_fcmae, build_models, dense_masked_loss
from .fcmae_flops import fcmae_flop_limit
from .gpu_timing import autocast, grad_scaler, median_seconds, peak_mib, \
    reset_peak

__all__ = ['check_backbone', 'check_fcmae', 'check_fcmae_compiled']


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
    scaler = grad_scaler(device, dtype)
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
    scaler = grad_scaler(device, dtype)

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
