"""Small inputs for a model's task and one training step on them: what
``swap_backbone.py --check`` and the downstream tests run."""
from typing import Dict, List, Sequence, Tuple

import torch

__all__ = ['loss_step', 'seg_inputs', 'det_inputs', 'reid_inputs']


def loss_step(model: torch.nn.Module, data: dict) -> Dict[str, torch.Tensor]:
    """Preprocess ``data``, compute the losses, backpropagate their sum and
    return them; the sum must be finite."""
    model.train()
    data = model.data_preprocessor(data, True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss), losses
    loss.backward()
    return losses


def seg_inputs(shapes: Sequence[Tuple[int, int]], num_classes: int,
               seed: int = 0, ignored_band: bool = True) -> dict:
    """Images and mmseg ``SegDataSample``s with ``PixelData`` labels (by
    default with a band of them ignored, 255)."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs: List[torch.Tensor] = []
    samples = []
    for h, w in shapes:
        inputs.append(torch.randint(0, 256, (3, h, w), generator=gen,
                                    dtype=torch.uint8))
        label = torch.randint(0, num_classes, (1, h, w), generator=gen)
        if ignored_band:
            label[:, :4] = 255
        sample = SegDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def det_inputs(shapes: Sequence[Tuple[int, int]], num_classes: int,
               video: bool = False) -> dict:
    """mmdet's demo inputs: boxes, instance masks and a semantic map per
    image, proposals for detectors without an RPN (models read what they
    need); two frames per sample for video models. Labels stay below
    ``num_classes``, also for one-class heads."""
    from mmdet.testing import (demo_mm_inputs, demo_mm_proposals,
                               demo_track_inputs)
    images = [(3, h, w) for h, w in shapes]
    if video:
        data = demo_track_inputs(len(shapes), num_frames=2, key_frames_inds=[0],
                                 image_shapes=images, num_items=[3] * len(shapes),
                                 num_classes=num_classes, with_mask=True)
        samples = [frame for video_sample in data['data_samples']
                   for frame in video_sample.video_data_samples]
    else:
        data = demo_mm_inputs(len(shapes), images, num_items=[3] * len(shapes),
                              num_classes=max(num_classes, 2), with_mask=True,
                              with_semantic=num_classes < 256)  # uint8 maps
        samples = data['data_samples']
        for sample, proposals in zip(samples, demo_mm_proposals(images, 100)):
            sample.proposals = proposals
    for sample in samples:
        sample.gt_instances.labels.clamp_(max=num_classes - 1)
        if 'gt_sem_seg' in sample:
            sample.gt_sem_seg.sem_seg.clamp_(max=num_classes - 1)
    return data


def reid_inputs(shapes: Sequence[Tuple[int, int]], num_classes: int) -> dict:
    """Person crops with identity labels, two crops per identity (what a
    triplet loss needs)."""
    from mmdet.structures import ReIDDataSample
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for i, (h, w) in enumerate(shapes):
        inputs.append(torch.randint(0, 256, (3, h, w), generator=gen,
                                    dtype=torch.uint8))
        sample = ReIDDataSample()
        sample.set_gt_label((i // 2) % num_classes)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)
