"""The compiled mmcv ops our configs use (Mask R-CNN's NMS, batched NMS and
RoIAlign; mmcv has no CPU RoI pooling) give the results of torchvision's: a check on
mmcv's build (tools/install.sh compiles it with a precompiled header)."""
import pytest
import torch
import torchvision.ops as tv
from mmcv import ops


def boxes_and_scores(n: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=gen) * 200
    wh = torch.rand(n, 2, generator=gen) * 60 + 4
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=gen)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_nms_matches_torchvision(seed):
    boxes, scores = boxes_and_scores(300, seed)
    for thr in (0.3, 0.5, 0.7):
        _, keep = ops.nms(boxes, scores, thr)
        assert torch.equal(keep, tv.nms(boxes, scores, thr))


def test_batched_nms_matches_torchvision():
    boxes, scores = boxes_and_scores(300, 3)
    labels = torch.randint(0, 5, (300, ), generator=torch.Generator().manual_seed(3))
    dets, keep = ops.batched_nms(boxes, scores, labels,
                                 dict(type='nms', iou_threshold=0.5))
    expected = tv.batched_nms(boxes, scores, labels, 0.5)
    assert torch.equal(keep, expected)
    assert torch.allclose(dets[:, 4], scores[expected])


def rois(n: int, seed: int) -> torch.Tensor:
    boxes, _ = boxes_and_scores(n, seed)
    index = torch.arange(n, dtype=torch.float32)[:, None] % 2
    return torch.cat([index, boxes / 2], 1)  # in a 128 px image, 2 images


@pytest.mark.parametrize('aligned, sampling', [(True, 0), (False, 2)])
def test_roi_align_matches_torchvision(aligned, sampling):
    feats = torch.randn(2, 8, 32, 32, dtype=torch.float64, requires_grad=True)
    boxes = rois(40, 4).double()
    ours = ops.roi_align(feats, boxes, (7, 7), 0.25, sampling, 'avg', aligned)
    ref = tv.roi_align(feats, boxes, (7, 7), 0.25, sampling, aligned)
    assert torch.allclose(ours, ref, atol=1e-10)
    grad_ours, = torch.autograd.grad(ours.sum(), feats)
    grad_ref, = torch.autograd.grad(ref.sum(), feats)
    assert torch.allclose(grad_ours, grad_ref, atol=1e-10)
