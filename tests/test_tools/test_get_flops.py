"""tools/analysis_tools/get_flops.py against the paper's table (params and
FLOPs of the ImageNet classifier at 224), and what it measures per task."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from mmconvnextv2.runtime import drop_pretrained
from helpers.tools import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# paper: params, FLOPs at 224 (classifier, head included)
PAPER = {'atto': (3.7e6, 0.55e9), 'femto': (5.2e6, 0.78e9),
         'pico': (9.1e6, 1.37e9), 'nano': (15.6e6, 2.45e9),
         'tiny': (28.6e6, 4.47e9), 'base': (89e6, 15.4e9),
         'large': (198e6, 34.4e9), 'huge': (660e6, 115e9)}

get_flops = load_script('tools/analysis_tools/get_flops.py')


def in1k_config(arch: str) -> str:
    found = glob.glob(osp.join(ROOT, 'configs', 'convnext_v2',
                               f'convnext-v2-{arch}_fcmae-pre_*_in1k.py'))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize('arch', ['atto', 'tiny'])
def test_classifier_matches_paper(arch, capsys):
    result = get_flops.main([in1k_config(arch)])
    params, flops = PAPER[arch]
    assert result['parts'] == ['backbone', 'head']
    assert result['params'] == result['total_params']
    assert result['params'] == pytest.approx(params, rel=0.05)
    assert result['flops'] == pytest.approx(flops, rel=0.05)
    out = capsys.readouterr().out
    assert 'measured: backbone + head' in out and 'FLOPs:' in out


@pytest.mark.parametrize('arch', sorted(PAPER))
def test_every_size_params_match_paper(arch):
    """Parameter counts of all eight classifier configs (built on the meta
    device: no memory, no init; FLOPs are counted for atto and tiny above)."""
    cfg = Config.fromfile(in1k_config(arch))
    drop_pretrained(cfg.model)
    init_default_scope('mmpretrain')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    params = sum(p.numel() for p in model.parameters())
    assert params == pytest.approx(PAPER[arch][0], rel=0.05)


def test_detector_measures_feature_extractor(capsys):
    config = osp.join(ROOT, 'configs', 'mask_rcnn',
                      'mask-rcnn_convnext-v2-atto_fpn_synthetic.py')
    result = get_flops.main([config, '--shape', '64'])
    assert result['parts'] == ['backbone', 'neck']
    assert 0 < result['params'] < result['total_params']
    assert result['flops'] > 0
    assert 'input:    1x3x64x64' in capsys.readouterr().out
