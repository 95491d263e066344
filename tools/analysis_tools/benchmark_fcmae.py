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
import time
from typing import Callable, Dict, List, Tuple

import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmconvnextv2  # noqa: F401
from mmconvnextv2.models import dense_masked_forward

WIDTHS = {'atto': 320, 'femto': 384, 'pico': 512, 'nano': 640, 'tiny': 768,
          'base': 1024, 'large': 1536, 'huge': 2816}


def build_fcmae(arch: str) -> torch.nn.Module:
    """Our FCMAE as in configs/fcmae (decoder width 512, depth 1)."""
    return MODELS.build(dict(
        type='FCMAE', mask_ratio=0.6,
        backbone=dict(type='ConvNeXtV2', arch=arch, gap_before_final_norm=False,
                      norm_outputs=False),
        neck=dict(type='FCMAEDecoder', in_channels=WIDTHS[arch], embed_dims=512),
        head=dict(type='MAEPretrainHead', patch_size=32,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2'))))


def build_spark(arch: str) -> torch.nn.Module:
    """mmpretrain's SparK with SparseConvNeXt (its ConvNeXt V2 config)."""
    return MODELS.build(dict(
        type='SparK', input_size=224, downsample_raito=32, mask_ratio=0.6,
        enc_dec_norm_cfg=dict(type='SparseLN2d', eps=1e-6),
        enc_dec_norm_dim=WIDTHS[arch],
        backbone=dict(type='SparseConvNeXt', arch=arch, out_indices=(0, 1, 2, 3),
                      gap_before_output=False, layer_scale_init_value=0.,
                      use_grn=True),
        neck=dict(type='SparKLightDecoder', feature_dim=512, upsample_ratio=32,
                  mid_channels=0, last_act=False),
        head=dict(type='SparKPretrainHead',
                  loss=dict(type='PixelReconstructionLoss', criterion='L2'))))


def dense_masked_loss(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """FCMAE loss with the encoder run as the dense-masked reference."""
    mask = model.generate_mask(x)
    latent = dense_masked_forward(model.backbone, x, mask)[-1]
    pred = model.neck(latent, mask).flatten(2).transpose(1, 2)
    return model.head.loss(pred, x, mask.flatten(1).to(pred.dtype))


def benchmark(arch: str, batch: int, warmup: int,
              repeats: int) -> Dict[str, float]:
    """Median seconds per step of each path; the paths take turns in every
    round so that background load affects them alike."""
    torch.manual_seed(0)
    x = torch.randn(batch, 3, 224, 224)
    ours = build_fcmae(arch).train()
    spark = build_spark(arch).train()
    steps: Dict[str, Tuple[torch.nn.Module, Callable[[], torch.Tensor]]] = {
        'ours (sparse)': (ours, lambda: ours.loss(x, [])['loss']),
        'dense-masked': (ours, lambda: dense_masked_loss(ours, x)),
        'mmpretrain SparK': (spark, lambda: spark.loss(x, [])['loss']),
    }
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for round_ in range(warmup + repeats):
        for name, (model, step) in steps.items():
            model.zero_grad(set_to_none=True)
            start = time.perf_counter()
            step().backward()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
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
