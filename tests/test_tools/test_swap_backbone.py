"""tools/misc/swap_backbone.py: ConvNeXt V2 swapped into stock mmdet / mmseg
configs of every kind of model (the widths and indices found by walking the
model config), one CPU loss step of each, the one-line refusal, and the
written config (short, inheriting, the same every time)."""
import math
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmconvnextv2.models import ConvNeXtV2
from mmconvnextv2.swap import (FeatureMap, SwapError, assign_stages,
                               check_config, format_value, render,
                               resolve_config, swap_config)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'misc', 'swap_backbone.py')
ATTO = [40, 80, 160, 320]
C4 = 'mmdet::faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py'


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: the machine's cores are shared (see
    tests/test_downstream/conftest.py)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def swap(name: str, out_dir: str, **kwargs) -> tuple:
    """Swap ``name`` in-process; write the config; return (path, result)."""
    os.makedirs(out_dir, exist_ok=True)
    path, base = resolve_config(name, out_dir)
    result = swap_config(Config.fromfile(path), base, **kwargs)
    out = osp.join(out_dir, 'swapped.py')
    with open(out, 'w') as f:
        f.write(render(result))
    return out, result


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


def value_at(cfg: Config, dotted: str):
    node = cfg
    for part in dotted.split('.'):
        node = node[part]
    return list(node) if isinstance(node, (list, tuple)) else node


@pytest.mark.parametrize('kind', list(CASES))
def test_swap_and_check(kind, tmp_path):
    name, expected, out_indices = CASES[kind]
    out, result = swap(name, str(tmp_path), arch='atto')
    cfg = Config.fromfile(out)
    backbone = cfg.model.backbone
    assert backbone.type == 'mmpretrain.ConvNeXtV2'
    assert backbone.arch == 'atto' and backbone.gap_before_final_norm is False
    assert tuple(backbone.out_indices) == out_indices
    assert 'depth' not in backbone and 'norm_eval' not in backbone  # deleted
    for field, value in expected.items():
        assert value_at(cfg, field) == value, field
    changed = {c.name for c in result.changes}
    assert {f for f in expected if f.endswith('channels')} | {
        'model.backbone'} <= changed
    assert cfg.custom_imports.imports == ['mmconvnextv2']
    # mmdet / mmseg layer decay for ConvNeXt; AdamW
    wrapper = cfg.optim_wrapper
    assert wrapper.constructor == 'LearningRateDecayOptimizerConstructor'
    assert wrapper.optimizer.type == 'AdamW'
    assert 'momentum' not in wrapper.optimizer  # the SGD dict is replaced
    assert wrapper.paramwise_cfg.decay_type == (
        'layer_wise' if name.startswith('mmdet') else 'stage_wise')
    # the checkpoints' normalisation (caffe-style BGR configs change)
    preprocessor = cfg.model.data_preprocessor
    assert preprocessor.bgr_to_rgb is True
    assert list(preprocessor.std) == [58.395, 57.12, 57.375]

    report = check_config(out, (128, 128))
    model = report['model']
    assert isinstance(model.backbone, ConvNeXtV2)
    assert report['params'] == sum(p.numel() for p in model.parameters())
    assert report['losses'] and all(
        math.isfinite(v) for v in report['losses'].values())
    # every stage that is kept feeds the loss, so every output norm learns
    for i in out_indices:
        grad = getattr(model.backbone, f'norm{i}').weight.grad
        assert grad is not None and torch.isfinite(grad).all()
    assert model.backbone.stages[0][0].grn.gamma.grad.abs().sum() > 0


def test_written_config_inherits_and_is_stable(tmp_path):
    name = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py'
    first, _ = swap(name, str(tmp_path / 'a'), arch='atto')
    second, _ = swap(name, str(tmp_path / 'b'), arch='atto')
    text = open(first).read()
    assert text == open(second).read()
    assert f"_base_ = ['{name}']" in text
    # only what changes is written: no copy of the base model
    assert 'DepthwiseSeparableASPPHead' not in text and 'dilations' not in text
    assert len(text.splitlines()) < 60
    # the same text from the command line (path given as a file, not pkg::)
    path, _ = resolve_config(name, str(tmp_path))
    out = tmp_path / 'cli.py'
    proc = subprocess.run(
        [sys.executable, TOOL, path, '--arch', 'atto', '--out', str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f'wrote {out}' in proc.stdout
    assert 'model.decode_head.c1_in_channels: 256 -> 40' in proc.stdout
    assert out.read_text() == text


def test_relative_base_for_a_local_config(tmp_path):
    """A config outside the packages is inherited by a relative path."""
    local = tmp_path / 'configs' / 'my_retinanet.py'
    local.parent.mkdir()
    local.write_text("_base_ = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py']\n"
                     "model = dict(bbox_head=dict(num_classes=3))\n")
    out_dir = tmp_path / 'swapped'
    out_dir.mkdir()
    out, _ = swap(str(local), str(out_dir), arch='atto')
    assert "_base_ = ['../configs/my_retinanet.py']" in open(out).read()
    cfg = Config.fromfile(out)
    assert cfg.model.bbox_head.num_classes == 3
    assert list(cfg.model.neck.in_channels) == ATTO[1:]  # start_level 1


def test_options_custom_arch_checkpoint_lr_decay(tmp_path):
    channels = [8, 16, 32, 64]
    out, _ = swap('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
                  str(tmp_path), arch=dict(depths=[1, 1, 2, 1],
                                           channels=channels),
                  checkpoint='https://example.com/fcmae.pt', lr_decay=0.8)
    cfg = Config.fromfile(out)
    assert dict(cfg.model.backbone.arch) == dict(depths=[1, 1, 2, 1],
                                                 channels=channels)
    assert list(cfg.model.neck.in_channels) == channels[1:]
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='https://example.com/fcmae.pt')
    assert cfg.optim_wrapper.paramwise_cfg.decay_rate == 0.8
    assert cfg.optim_wrapper.paramwise_cfg.num_layers == 6
    report = check_config(out, (96, 96))  # the URL is not fetched
    assert report['init'] == 'random (URL not fetched)'
    # the mmdet layer-decay constructor accepts the swapped model
    from mmdet.engine.optimizers import LearningRateDecayOptimizerConstructor
    wrapper = cfg.optim_wrapper
    groups = LearningRateDecayOptimizerConstructor(
        dict(type='OptimWrapper', optimizer=wrapper.optimizer),
        wrapper.paramwise_cfg)(report['model']).optimizer.param_groups
    by_name = {n: g for g in groups for n in g['param_names']}
    assert by_name['backbone.stages.0.0.grn.gamma']['weight_decay'] == 0
    assert by_name['backbone.stages.0.0.pointwise_conv1.weight'][
        'weight_decay'] == 0.05
    assert by_name['backbone.stages.0.0.pointwise_conv1.weight']['lr'] < \
        by_name['backbone.stages.3.0.pointwise_conv1.weight']['lr']


def test_refusal_is_one_line_and_writes_nothing(tmp_path):
    """Faster R-CNN C4: the RoI head runs ResNet's stage 4 on the backbone's
    stage-3 output; its widths come from that ResNet, not from a field."""
    out = tmp_path / 'never.py'
    proc = subprocess.run(
        [sys.executable, TOOL, C4, '--arch', 'atto', '--out', str(out),
         '--check'], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2
    refusal = [line for line in proc.stderr.splitlines()
               if line.startswith('cannot swap')]
    assert len(refusal) == 1, proc.stderr
    assert 'model.roi_head.bbox_head.in_channels=2048' in refusal[0]
    assert not out.exists() and proc.stdout == ''


def test_refusal_of_a_backbone_inside_the_backbone(tmp_path):
    with pytest.raises(SwapError, match=r'^model\.backbone\.backbone_cfg: '
                       'BiSeNetV1 wraps a backbone of its own'):
        swap('mmseg::bisenetv1/bisenetv1_r18-d32_4xb4-160k_cityscapes-1024x1024.py',
             str(tmp_path))
    assert not (tmp_path / 'swapped.py').exists()


@pytest.mark.parametrize('strides, widths, stages', [
    ([4, 8, 16, 32], [1, 2, 3, 4], [0, 1, 2, 3]),
    ([8, 16, 32], [1, 2, 3], [1, 2, 3]),
    ([32], [1], [3]),
    ([4, 8, 8, 8], [1, 2, 3, 4], [0, 1, 2, 3]),     # dilated: next free stage
    ([16, 16, 16, 16], [1, 2, 3, 4], [0, 1, 2, 3]),  # single-scale: pulled down
    ([2, 1], [2, 1], [0, 1]),                        # a decoder's outputs (UNet)
    ([16, 16, 16, 16], [7, 7, 7, 7], [2, 2, 2, 2]),  # a ViT's levels: one kind
    ([4, 4], [5, 5], [0, 0]),                        # stacked hourglasses
    ([8, 4, 8, 16, 32], [5, 1, 2, 3, 4], [1, 0, 1, 2, 3]),  # 5 kinds, 4 stages
])
def test_assign_stages(strides, widths, stages):
    maps = [FeatureMap(w, s) for s, w in zip(strides, widths)]
    assert assign_stages(maps, 4) == stages


def test_repeated_stage_is_returned_twice():
    """out_indices may name a stage twice (two heads reading one stride);
    the outputs stay in stage order."""
    model = ConvNeXtV2(arch='atto', out_indices=(1, 0, 1),
                       gap_before_final_norm=False)
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [40, 80, 80]
    assert torch.equal(outs[1], outs[2])


def test_format_value_is_python():
    value = dict(_delete_=True, type='X', widths=[1, 2], pair=(0.9, 0.999),
                 one=(3, ), nested=dict(a=None, b='s' * 80),
                 heads=[dict(in_channels=40, in_index=0)])
    text = format_value(value)
    assert eval(text, {'dict': dict}) == value
    assert all(len(line) <= 79 for line in text.splitlines()
               if 's' * 80 not in line)
    assert format_value(dict(a=1)) == 'dict(a=1)'


@pytest.mark.parametrize('name, expected, out_indices', [
    # its neck indexes inputs by fixed positions: stage 0 stays, unread
    ('mmdet::nas_fcos/'
     'nas-fcos_r50-caffe_fpn_fcoshead-gn-head_4xb4-1x_coco.py',
     {'model.neck.in_channels': ATTO, 'model.neck.start_level': 1},
     (0, 1, 2, 3)),
    # JPU hands backbone map 1 on to the auxiliary head: its width follows
    ('mmseg::fastfcn/fastfcn_r50-d32_jpu_aspp_4xb2-80k_cityscapes-512x1024.py',
     {'model.neck.in_channels': ATTO[1:],
      'model.auxiliary_head.in_channels': 160,
      'model.decode_head.in_channels': 2048}, (1, 2, 3)),
])
def test_necks_found_by_running_them(name, expected, out_indices, tmp_path):
    out, result = swap(name, str(tmp_path), arch='atto')
    cfg = Config.fromfile(out)
    assert tuple(cfg.model.backbone.out_indices) == out_indices
    for field, value in expected.items():
        assert value_at(cfg, field) == value, field

