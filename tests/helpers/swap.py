"""Shared by the swap package tests: stock configs of every kind of model
with what the swap must change in each, and an in-process swap."""
import os
import os.path as osp
from typing import Any, Tuple

from mmengine.config import Config

from mmconvnextv2.swap import SwapResult, render, resolve_config, swap_config

ATTO = [40, 80, 160, 320]

# config, {field: expected value after the swap}, backbone out_indices
CASES = {
    'two-stage': (
        'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
        {'model.neck.in_channels': ATTO}, (0, 1, 2, 3)),
    'one-stage': (  # FPN from stage 1: stage 0 is not output at all
        'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
        {'model.neck.in_channels': ATTO[1:], 'model.neck.start_level': 0},
        (1, 2, 3)),
    'detr': (  # stage 3 only, through ChannelMapper
        'mmdet::detr/detr_r50_8xb2-150e_coco.py',
        {'model.neck.in_channels': [320]}, (3, )),
    'instance': (
        'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
        {'model.neck.in_channels': ATTO}, (0, 1, 2, 3)),
    'mask2former': (  # no neck: the pixel decoder's widths
        'mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco.py',
        {'model.panoptic_head.in_channels': ATTO}, (0, 1, 2, 3)),
    'upernet': (
        'mmseg::upernet/upernet_r50_4xb2-40k_cityscapes-512x1024.py',
        {'model.decode_head.in_channels': ATTO,
         'model.auxiliary_head.in_channels': 160,
         'model.auxiliary_head.in_index': 2}, (0, 1, 2, 3)),
    'psp': (  # dilated ResNet: 4 outputs read by stage 2 and 3 heads
        'mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        {'model.decode_head.in_channels': 320,
         'model.decode_head.in_index': 1,
         'model.auxiliary_head.in_channels': 160,
         'model.auxiliary_head.in_index': 0,
         'model.pretrained': None}, (2, 3)),
    'aspp': (
        'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        {'model.decode_head.in_channels': 320,
         'model.auxiliary_head.in_channels': 160}, (2, 3)),
    'deeplabv3plus': (  # low-level features of stage 0 as well
        'mmseg::deeplabv3plus/'
        'deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        {'model.decode_head.c1_in_channels': 40,
         'model.decode_head.in_channels': 320,
         'model.decode_head.in_index': 2,
         'model.auxiliary_head.in_channels': 160,
         'model.auxiliary_head.in_index': 1}, (0, 2, 3)),
    'vit-levels': (  # four stride-16 maps of one width: stage 2, four times
        'mmseg::setr/setr_vit-l-mla_8xb1-160k_ade20k-512x512.py',
        {'model.neck.in_channels': [160] * 4}, (2, 2, 2, 2)),
}

DEEPLABV3PLUS = CASES['deeplabv3plus'][0]
RETINANET = CASES['one-stage'][0]


def swap(name: str, out_dir: str, **kwargs: Any) -> Tuple[str, SwapResult]:
    """Swap ``name`` in-process; write the config to ``out_dir/swapped.py``;
    return (path, result)."""
    os.makedirs(out_dir, exist_ok=True)
    path, base = resolve_config(name, out_dir)
    result = swap_config(Config.fromfile(path), base, **kwargs)
    out = osp.join(out_dir, 'swapped.py')
    with open(out, 'w') as f:
        f.write(render(result))
    return out, result


def value_at(cfg: Config, dotted: str) -> Any:
    """The value of a dotted field (lists and tuples as lists)."""
    node = cfg
    for part in dotted.split('.'):
        node = node[part]
    return list(node) if isinstance(node, (list, tuple)) else node
