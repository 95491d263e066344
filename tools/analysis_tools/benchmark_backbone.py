"""Backbone throughput: ConvNeXtV2 vs mmpretrain's ConvNeXt (GRN, no LayerScale)
vs timm's convnextv2, identical weights, one process; and memory with/without
``with_cp``.

Throughput is images/s of forward + backward at 224 (median over rounds in
which the three models take turns). Memory is the size of the tensors saved
for backward (what ``with_cp`` trades for recomputation); on a GPU the peak
allocated memory is printed too. ``--amp --channels-last`` apply on a GPU.
``--compile`` also times ``torch.compile(ours)`` (inductor; on CPU it needs a
C++ compiler) against ours in eager mode, taking turns in the same process,
and prints the ratio; the first compiled step (compilation) is not timed.

Example: ``python tools/analysis_tools/benchmark_backbone.py --archs tiny base``
"""
import argparse
import statistics
import time
from contextlib import nullcontext
from typing import Callable, Dict, List, Optional

import torch

from mmconvnextv2.analysis.benchmarks import build_models, saved_bytes
from mmconvnextv2.utils import time_turns


def time_steps(losses: Dict[str, Callable[[], torch.Tensor]], rounds: int,
               device: str,
               models: Optional[Dict[str, torch.nn.Module]] = None
               ) -> Dict[str, List[float]]:
    """Seconds of each forward + backward (``losses[name]().backward()``,
    after zeroing ``models[name]``'s gradients), taking turns; round 0
    (warm-up, compilation) is not kept."""
    def step(name: str) -> Callable[[], None]:
        def run() -> None:
            if models:
                models[name].zero_grad(set_to_none=True)
            losses[name]().backward()
        return run

    return time_turns({name: step(name) for name in losses}, rounds,
                      warmup=1, device=device)


def run_compiled(model: torch.nn.Module, step: Callable, rounds: int,
                 device: str, x: torch.Tensor) -> None:
    """Compiled vs eager ``model``: equal features, speed ratio."""
    compiled = torch.compile(model)
    start = time.perf_counter()
    with torch.no_grad():
        err = max((a - b).abs().max().item()
                  for a, b in zip(model(x), compiled(x)))
    step(compiled).backward()  # compiles the training graphs too
    compile_s = time.perf_counter() - start
    model.zero_grad(set_to_none=True)
    times = time_steps({'eager': lambda: step(model),
                        'compiled': lambda: step(compiled)}, rounds, device)
    eager, fast = (statistics.median(times[k]) for k in ('eager', 'compiled'))
    batch = x.shape[0]
    print(f'  ours torch.compile    {batch / fast:8.2f} img/s   '
          f'{eager / fast:5.2f}x ours eager ({batch / eager:.2f} img/s), '
          f'compiled in {compile_s:.0f} s, max |compiled - eager| feature '
          f'diff {err:.1e}')


def run(arch: str, batch: int, rounds: int, device: str, amp: bool,
        channels_last: bool, compile: bool = False) -> None:
    torch.manual_seed(0)
    models = build_models(arch)
    for model in models.values():  # (mmpretrain's ConvNeXt.train returns None)
        model.to(device).train()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(batch, 3, 224, 224, device=device).contiguous(
        memory_format=fmt)
    if channels_last:
        for m in models.values():
            m.to(memory_format=torch.channels_last)
    autocast = (lambda: torch.autocast(device, dtype=torch.float16)) if amp \
        else nullcontext

    def step(model: torch.nn.Module) -> torch.Tensor:
        with autocast():
            out = model(x)
        out = out[-1] if isinstance(out, tuple) else out
        return out.float().pow(2).mean()

    with torch.no_grad():  # the same weights give the same features
        a = models['ours ConvNeXtV2'](x)[-1].float()
        b = models['timm convnextv2'](x).float()
        err = (a - b).abs().max().item()
    times = time_steps({name: (lambda m=model: step(m))
                        for name, model in models.items()}, rounds, device,
                       models)
    base = batch / statistics.median(times['mmpretrain ConvNeXt'])
    print(f'\n{arch} @224, batch {batch}, {device}'
          f'{", AMP fp16" if amp else ""}{", channels_last" if channels_last else ""}'
          f' (max |ours - timm| feature diff {err:.1e})')
    for name, t in times.items():
        ips = batch / statistics.median(t)
        print(f'  {name:20s} {ips:8.2f} img/s   {ips / base:5.2f}x mmpretrain')

    ours = models['ours ConvNeXtV2']
    for with_cp in (False, True):
        for block in (b for stage in ours.stages for b in stage):
            block.with_cp = with_cp
        if device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        saved = saved_bytes(lambda: step(ours))
        peak = (f', peak allocated {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB'
                if device == 'cuda' else '')
        print(f'  ours with_cp={str(with_cp):5s}   saved for backward '
              f'{saved / 2**20:8.1f} MiB{peak}')
    if compile:
        for block in (b for stage in ours.stages for b in stage):
            block.with_cp = False
        run_compiled(ours, step, rounds, device, x)


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--archs', nargs='+', default=['tiny', 'base'])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--amp', action='store_true')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--compile', action='store_true',
                        help='also time torch.compile(ours) against eager')
    args = parser.parse_args(argv)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads')
    for arch in args.archs:
        run(arch, args.batch, args.rounds, args.device, args.amp,
            args.channels_last, args.compile)


if __name__ == '__main__':
    main()
