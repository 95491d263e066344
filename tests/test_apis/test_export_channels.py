"""ONNX export of C-channel models: the graph takes (N, C, H, W) and
onnxruntime agrees with PyTorch on a C-channel batch, for 1 and 4 channels
(classifier logits through tools/deployment/export_onnx.py, UperNet
logits, Mask R-CNN backbone + FPN); the normalisation of a config that
normalises in its pipeline is written into the metadata. Untrained weights
saved by the tests."""
import pytest
from helpers.channel_configs import channel_config, save_untrained
from helpers.tools import load_script

from mmconvnextv2.apis.export import (build_export_module, check_parity,
                                      export_and_check, input_channels)

pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')

TOLERANCE = 1e-4  # relative: the largest difference over the largest value


@pytest.mark.parametrize('channels', [1, 4])
def test_classifier_export_tool(tmp_path, capsys, channels):
    cfg = channel_config('cls', channels)
    config = str(tmp_path / 'cls.py')
    cfg.dump(config)
    ckpt = save_untrained(cfg, str(tmp_path / 'cls.pth'))
    out = tmp_path / 'cls.onnx'
    load_script('tools/deployment/export_onnx.py').main(
        [config, ckpt, '--out', str(out), '--shape', '64', '32'])
    printed = capsys.readouterr().out
    assert f'input (N, {channels}, 64, 32)' in printed
    assert 'parity OK' in printed
    proto = onnx.load(str(out))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta['channels'] == str(channels)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims[1:]] == [channels, 64, 32]
    # 1 band: the preprocessor's; 4 bands: the pipeline's Normalize
    assert meta['mean'] == ('[32768.0]' if channels == 1 else
                            str([0.] * 4))


@pytest.mark.parametrize('task, channels, names', [
    ('seg', 4, ['seg_logits']),
    ('det', 1, [f'fpn{i}' for i in range(5)]),
])
def test_parity_on_c_channel_input(tmp_path, task, channels, names):
    cfg = channel_config(task, channels)
    ckpt = save_untrained(cfg, str(tmp_path / 'model.pth'))
    module, found, _, _ = build_export_module(cfg, ckpt, 'model')
    assert found == names and input_channels(module) == channels
    out = str(tmp_path / 'model.onnx')
    diffs = export_and_check(module, names, out, (64, 64))
    for name, (abs_diff, rel_diff) in diffs.items():
        assert rel_diff < TOLERANCE and abs_diff < 1e-3, (name, diffs)
    # the check can fail: other weights than the file's
    for p in module.parameters():
        p.data.add_(0.1)
    worst = max(rel for _, rel in check_parity(module, names, out,
                                               (64, 64)).values())
    assert worst > 100 * TOLERANCE
