"""mmconvnextv2.swap.readers: which backbone outputs each width field reads,
stated, by value, by class default, or found by running a neck."""
import pytest
from mmengine.config import Config

from mmconvnextv2.swap import (FeatureMap, SwapError, class_default,
                               find_readers, passed_through, readers_of,
                               stray_width)
from helpers.swap import ATTO, swap, value_at

WIDTHS = [256, 512, 1024, 2048]
PATH = ('model', 'decode_head')


def test_readers_by_index_value_and_class_default():
    stated = readers_of(dict(type='X', in_channels=[512, 2048],
                             in_index=[1, -1]), PATH, WIDTHS, 'mmseg')
    assert [(r.key, r.positions, r.index_key, r.explicit_index)
            for r in stated] == [('in_channels', [1, 3], 'in_index', True)]
    by_value = readers_of(dict(type='X', in_channels=[512, 1024, 2048],
                               start_level=1), ('model', 'neck'), WIDTHS,
                          'mmdet')[0]
    assert by_value.positions == [1, 2, 3] and by_value.index_key is None
    assert by_value.skipped == 1 and by_value.used == [2, 3]  # FPN start_level
    # mmseg's decode heads read in_index=-1 unless told
    assert class_default('FCNHead', 'in_index', 'mmseg') == -1
    default = readers_of(dict(type='FCNHead', in_channels=2048), PATH, WIDTHS,
                         'mmseg')[0]
    assert default.positions == [3] and default.explicit_index is False


def test_container_is_searched():
    roi_head = dict(type='R', bbox_roi_extractor=dict(type='E', out_channels=8),
                    bbox_head=dict(type='B', in_channels=1024),
                    mask_head=[dict(type='M', in_channels=1024)])
    readers = readers_of(roi_head, ('model', 'roi_head'), WIDTHS, 'mmdet')
    assert [r.path for r in readers] == [
        ('model', 'roi_head', 'bbox_head'), ('model', 'roi_head', 'mask_head', 0)]


@pytest.mark.parametrize('node, message', [
    (dict(type='X', in_channels=[512, 99]),
     r'^model\.decode_head\.in_channels=\[512, 99\] does not match the '
     r'backbone outputs\' widths \[256, 512, 1024, 2048\] one to one$'),
    (dict(type='X', in_channels=99),
     r'^model\.decode_head\.in_channels=99 matches no backbone output '
     r'\(widths \[256, 512, 1024, 2048\]\)$'),
    (dict(type='X', in_channels=512, in_index=4),
     r'^model\.decode_head\.in_index=4 is out of range for the 4 backbone '
     r'outputs$'),
    (dict(type='X', in_channels=[512], in_index=[1, 2]),
     r'differ in length$'),
    (dict(type='X', in_channels=512, in_index=2),
     r'^model\.decode_head\.in_channels=512 but backbone output 2 has 1024 '
     r'channels$'),
])
def test_unreadable_widths_are_one_line(node, message):
    with pytest.raises(SwapError, match=message):
        readers_of(node, PATH, WIDTHS, 'mmseg')


def test_find_readers_levels_and_refusals():
    owner = dict(type='M', backbone=dict(type='R'),
                 neck=dict(type='GAP'),  # states no width: passes maps on
                 head=dict(type='H', in_channels=2048),
                 data_preprocessor=dict(in_channels=2048))
    readers, later = find_readers(owner, ('model', ), WIDTHS, 'mmdet')
    assert [r.path for r in readers] == [('model', 'head')] and later == []
    stray = dict(owner, neck=dict(type='N', embed_dim=1024))
    assert stray_width(stray['neck'], ('model', 'neck'), WIDTHS) == (
        'model.neck.embed_dim=1024 is the width of a backbone output but not '
        'an input width this tool can rewrite')
    with pytest.raises(SwapError, match='embed_dim=1024'):
        find_readers(stray, ('model', ), WIDTHS, 'mmdet')
    inner = dict(owner, neck=dict(type='RFP', rfp_backbone=dict(type='R')))
    with pytest.raises(SwapError, match=r'^model\.neck\.rfp_backbone: '
                       r'model\.neck runs a backbone of its own'):
        find_readers(inner, ('model', ), WIDTHS, 'mmdet')
    with pytest.raises(SwapError, match=r'^nothing in model states the widths'):
        find_readers(dict(type='M', backbone=dict(type='R')), ('model', ),
                     WIDTHS, 'mmdet')


def test_passed_through_needs_a_neck_that_runs():
    readers = readers_of(dict(type='NoSuchNeck', in_channels=WIDTHS),
                         ('model', 'neck'), WIDTHS, 'mmdet')
    maps = [FeatureMap(w, 4 * 2 ** i) for i, w in enumerate(WIDTHS)]
    assert passed_through(dict(type='NoSuchNeck', in_channels=WIDTHS),
                          readers[0], maps, 'mmdet') == {}


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
