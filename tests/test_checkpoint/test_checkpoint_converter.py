"""tools/model_converters/convnextv2_to_mmconvnextv2.py: output loads fully,
bad inputs fail clearly, the destination is never half written."""
import os
from pathlib import Path

import pytest
import torch
from helpers.checkpoints import (TINY, export_official, pretrained,
                                random_backbone_state)
from helpers.tools import load_script

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'model_converters' / 'convnextv2_to_mmconvnextv2.py'


@pytest.fixture(scope='module')
def tool():
    return load_script(TOOL)


@pytest.fixture(scope='module')
def official_file(tmp_path_factory):
    state = random_backbone_state(TINY, seed=21)
    head = {'weight': torch.randn(5, 64), 'bias': torch.randn(5)}
    path = tmp_path_factory.mktemp('src') / 'convnextv2_tiny.pt'
    torch.save({'model': export_official(state, head)}, path)
    return path, state


def test_convert_and_load(tool, official_file, tmp_path, load_spy):
    src, state = official_file
    dst = tmp_path / 'out' / 'converted.pth'
    tool.main([str(src), str(dst)])
    ckpt = torch.load(dst, map_location='cpu')
    assert ckpt['meta']['source_layout'] == 'official'
    assert {'head.fc.weight', 'head.fc.bias'} <= set(ckpt['state_dict'])
    assert ckpt['state_dict']['backbone.stages.0.0.grn.gamma'].dim() == 1
    model = pretrained(TINY, dst)
    assert load_spy.missing == [] and load_spy.unexpected == []
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value), key
    assert os.listdir(dst.parent) == ['converted.pth']  # no temp file left


def test_backbone_only(tool, official_file, tmp_path):
    dst = tmp_path / 'backbone.pth'
    tool.main([str(official_file[0]), str(dst), '--backbone-only'])
    keys = torch.load(dst, map_location='cpu')['state_dict'].keys()
    assert keys and all(k.startswith('backbone.') for k in keys)


def test_bad_inputs_fail_clearly(tool, tmp_path):
    with pytest.raises(SystemExit, match='checkpoint file not found'):
        tool.main([str(tmp_path / 'missing.pt'), str(tmp_path / 'out.pth')])
    (tmp_path / 'notes.pt').write_text('hello')
    with pytest.raises(SystemExit, match='could not read checkpoint'):
        tool.main([str(tmp_path / 'notes.pt'), str(tmp_path / 'out.pth')])
    torch.save({'state_dict': {'fc.weight': torch.zeros(2, 2)}},
               tmp_path / 'resnet.pth')
    with pytest.raises(SystemExit, match='not a ConvNeXt V2 checkpoint'):
        tool.main([str(tmp_path / 'resnet.pth'), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()


def test_failed_write_leaves_old_file(tool, official_file, tmp_path,
                                      monkeypatch):
    dst = tmp_path / 'converted.pth'
    dst.write_bytes(b'previous')

    def broken_save(obj, path):
        with open(path, 'wb') as f:
            f.write(b'half')
        raise OSError('disk full')

    monkeypatch.setattr(tool.torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        tool.main([str(official_file[0]), str(dst)])
    assert dst.read_bytes() == b'previous'
    assert os.listdir(tmp_path) == ['converted.pth']
