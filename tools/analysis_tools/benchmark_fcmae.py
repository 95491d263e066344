"""Time one FCMAE training step (forward + backward) three ways, in one process.

1. ours: ``FCMAE`` with the packed sparse encoder (``backbone(x, mask=mask)``);
2. dense-masked: the same network and weights, run densely with the mask
   re-applied after every layer (``dense_masked_forward``, the exactness
   reference);
3. SparK: mmpretrain's ``SparK`` with its ``SparseConvNeXt`` of the same size
   (GRN on, no LayerScale), its light decoder and loss.

Prints the median step time of each and the ratios against ours.
Example: ``python tools/analysis_tools/benchmark_fcmae.py --archs atto tiny``
"""
import argparse
import statistics
from typing import Callable, Dict, List

import torch
from mmengine.registry import init_default_scope

from mmconvnextv2.analysis.benchmarks import (build_fcmae, build_spark,
                                              dense_masked_loss)
from mmconvnextv2.utils import time_turns


def benchmark(arch: str, batch: int, warmup: int,
              repeats: int) -> Dict[str, float]:
    """Median seconds per step of each path; the paths take turns in every
    round so that background load affects them alike."""
    torch.manual_seed(0)
    x = torch.randn(batch, 3, 224, 224)
    ours = build_fcmae(arch).train()
    spark = build_spark(arch).train()
    losses: Dict[str, Callable[[], torch.Tensor]] = {
        'ours (sparse)': lambda: ours.loss(x, [])['loss'],
        'dense-masked': lambda: dense_masked_loss(ours, x),
        'mmpretrain SparK': lambda: spark.loss(x, [])['loss'],
    }
    models = {'ours (sparse)': ours, 'dense-masked': ours,
              'mmpretrain SparK': spark}

    def step(name: str) -> Callable[[], None]:
        def run() -> None:
            models[name].zero_grad(set_to_none=True)
            losses[name]().backward()
        return run

    times = time_turns({name: step(name) for name in losses}, repeats,
                       warmup)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--archs', nargs='+', default=['atto', 'tiny'])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args(argv)
    init_default_scope('mmpretrain')
    print(f'FCMAE step (fwd+bwd) at 224, mask 0.6, batch {args.batch}, '
          f'{torch.get_num_threads()} threads, torch {torch.__version__}')
    for arch in args.archs:
        result = benchmark(arch, args.batch, args.warmup, args.repeats)
        base = result['ours (sparse)']
        for name, t in result.items():
            print(f'{arch:6s} {name:18s} median {t * 1000:9.1f} ms   '
                  f'{t / base:5.2f}x the time of ours')


if __name__ == '__main__':
    main()
