"""tools/deployment/export_onnx.py: onnxruntime agrees with PyTorch on the
atto backbone, the classifier's logits, UperNet's segmentation logits and
Mask R-CNN's backbone + FPN, at another batch size than the export's
(dynamic batch axis); the check fails when the weights differ; a shape not
divisible by 32 and a checkpoint of another task fail clearly."""
import pytest
import torch
from helpers.classifier import run

from mmconvnextv2.apis.export import (AdaptiveAvgPoolAsMatmul, build_export_module,
                                 check_parity, check_shape, export_and_check)

pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')

TOLERANCE = 1e-4  # relative: the largest difference over the largest value


@pytest.mark.parametrize('task,what,shape,names', [
    ('det', 'backbone', (64, 96), ['feat0', 'feat1', 'feat2', 'feat3']),
    ('cls', 'model', (64, 64), ['logits']),
    ('seg', 'model', (128, 128), ['seg_logits']),  # pools 3, 6 on a 4x4 map
    ('det', 'model', (64, 64), [f'fpn{i}' for i in range(5)]),
])
def test_parity(trained, tmp_path, task, what, shape, names):
    run = getattr(trained, task)
    module, found, _, _ = build_export_module(run.config, run.checkpoint,
                                              what)
    assert found == names
    out = str(tmp_path / 'model.onnx')
    diffs = export_and_check(module, names, out, shape, dict(task=task))
    print(task, what, diffs)
    for name, (abs_diff, rel_diff) in diffs.items():
        assert rel_diff < TOLERANCE and abs_diff < 1e-3, (name, diffs)
    proto = onnx.load(out)
    assert {p.key: p.value for p in proto.metadata_props} == dict(task=task)
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == 'batch'  # dynamic
    if task == 'seg':  # logits at the input size (check_parity: same shape)
        with torch.no_grad():
            assert module(torch.zeros(1, 3, *shape)).shape[2:] == shape
    # the check can fail: other weights than the file's
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1)
    worst = max(rel for _, rel in check_parity(module, names, out,
                                               shape).values())
    assert worst > 100 * TOLERANCE


def test_adaptive_pool_rewrite_is_exact():
    x = torch.randn(2, 3, 13, 16)
    for size in (1, 2, 3, 6, (5, None)):
        torch.testing.assert_close(AdaptiveAvgPoolAsMatmul(size)(x),
                                   torch.nn.AdaptiveAvgPool2d(size)(x))


def test_cli_and_bad_input(trained, tmp_path):
    config, ckpt = trained.cls.config, trained.cls.checkpoint
    out = tmp_path / 'cls.onnx'
    output = run(['tools/deployment/export_onnx.py', config, ckpt, '--out',
                  str(out), '--shape', '64', '32'])
    assert 'logits: max abs diff' in output and 'parity OK' in output
    assert 'mean [123.675, 116.28, 103.53]' in output and out.is_file()
    with pytest.raises(ValueError, match=r'--shape 100 224: height 100 is '
                       'not a positive multiple of 32'):
        check_shape([100, 224])
    with pytest.raises(ValueError, match='width 0 is not'):
        check_shape([64, 0])
    with pytest.raises(ValueError, match=r'iter_\d+\.pth holds a detection'):
        build_export_module(config, trained.det.checkpoint, 'model')
