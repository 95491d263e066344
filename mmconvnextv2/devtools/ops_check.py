"""Check the compiled mmcv ops our detection configs use (NMS, batched NMS,
RoIAlign) on a device against torchvision's on the CPU. ``tools/install.sh``
runs it after building mmcv (``--device cuda`` on a CUDA machine), so a
build without working ops fails the install instead of the first training.

    python -m mmconvnextv2.devtools.ops_check [--device cuda]
"""
import argparse
from typing import Dict, List, Optional

import torch

__all__ = ['check_mmcv_ops']


def _boxes(n: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=gen) * 200
    wh = torch.rand(n, 2, generator=gen) * 60 + 4
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=gen)


def check_mmcv_ops(device: str = 'cpu') -> Dict[str, float]:
    """Run mmcv's NMS, batched NMS and RoIAlign (forward and gradient) on
    ``device``; compare with torchvision on the CPU.

    Returns the largest RoIAlign differences (``roi_align``,
    ``roi_align_grad``). Raises RuntimeError naming the op that disagrees
    (or ``mmcv._ext`` when mmcv has no compiled ops for the device).
    """
    import torchvision.ops as tv
    from mmcv import ops
    boxes, scores = _boxes(300, 0)
    try:
        _, keep = ops.nms(boxes.to(device), scores.to(device), 0.5)
    except (RuntimeError, ImportError) as err:
        raise RuntimeError(f'mmcv._ext has no working NMS on {device}: '
                           f'{err}') from err
    if not torch.equal(keep.cpu(), tv.nms(boxes, scores, 0.5)):
        raise RuntimeError(f'mmcv NMS on {device} differs from torchvision')
    labels = torch.arange(300) % 5
    _, keep = ops.batched_nms(boxes.to(device), scores.to(device),
                              labels.to(device),
                              dict(type='nms', iou_threshold=0.5))
    if not torch.equal(keep.cpu(), tv.batched_nms(boxes, scores, labels, 0.5)):
        raise RuntimeError(f'mmcv batched NMS on {device} differs')
    rois = torch.cat([(torch.arange(32.) % 2)[:, None], _boxes(32, 1)[0] / 2],
                     1)
    feats = torch.rand(2, 8, 64, 64, generator=torch.Generator().manual_seed(2))
    diffs: List[float] = []
    outs = []
    for impl, dev in ((ops.roi_align, device), (tv.roi_align, 'cpu')):
        x = feats.to(dev).requires_grad_()
        out = impl(x, rois.to(dev), (7, 7), 0.5, 2, True) if impl is \
            tv.roi_align else impl(x, rois.to(dev), (7, 7), 0.5, 2, 'avg',
                                   True)
        out.sum().backward()
        outs.append((out.detach().cpu(), x.grad.cpu()))
    diffs = [(a - b).abs().max().item() for a, b in zip(*outs)]
    if max(diffs) > 1e-4:
        raise RuntimeError(f'mmcv RoIAlign on {device} differs from '
                           f'torchvision by {max(diffs):.2e}')
    return dict(roi_align=diffs[0], roi_align_grad=diffs[1])


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    diffs = check_mmcv_ops(args.device)
    print(f'mmcv ops OK on {args.device}: NMS, batched NMS equal '
          f'torchvision; RoIAlign max diff {diffs["roi_align"]:.1e} '
          f'(gradient {diffs["roi_align_grad"]:.1e})')


if __name__ == '__main__':
    main()
