"""The install's check of mmcv's compiled ops (CPU here; CUDA on a GPU
machine)."""
import pytest

from mmconvnextv2.devtools import ops_check


def test_cpu_ops_agree_with_torchvision():
    diffs = ops_check.check_mmcv_ops('cpu')
    assert set(diffs) == {'roi_align', 'roi_align_grad'}
    assert max(diffs.values()) <= 1e-4


def test_a_disagreeing_op_is_named(monkeypatch):
    from mmcv import ops
    real = ops.nms
    monkeypatch.setattr(ops, 'nms', lambda b, s, t: real(b, s, min(1., t + .3)))
    with pytest.raises(RuntimeError, match='NMS on cpu differs'):
        ops_check.check_mmcv_ops('cpu')
