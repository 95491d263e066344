"""tools/misc/swap_backbone.py as a command: its flags, printed lines, exit
statuses and files (the swap itself: the other tests of tests/test_swap/;
the family table of tools/analysis_tools/swap_backbone_table.py:
tests/test_analysis/test_swap_sweep.py)."""
import json
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmconvnextv2.swap import render, resolve_config, swap_config
from helpers.tools import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'misc', 'swap_backbone.py')
C4 = 'mmdet::faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py'
DEEPLABV3PLUS = ('mmseg::deeplabv3plus/'
                 'deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py')
RETINANET = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def load_tool():
    """tools/misc/swap_backbone.py as a module."""
    return load_script(TOOL)


@pytest.mark.slow
def test_cli_writes_the_in_process_config(tmp_path, capsys):
    """The path of a packaged config is accepted and named the pkg:: way
    (the tool's main in this process; the command in a process of its own:
    test_cli_check_reports_one_line)."""
    path, base = resolve_config(DEEPLABV3PLUS, str(tmp_path))
    text = render(swap_config(Config.fromfile(path), base, 'atto'))
    out = tmp_path / 'cli.py'
    assert load_tool().main([path, '--arch', 'atto', '--out', str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f'wrote {out}'
    assert lines[1].startswith('changed (')
    assert ('  model.backbone: ResNetV1c -> mmpretrain.ConvNeXtV2 arch=atto '
            'out_indices=(0, 2, 3)') in lines
    assert '  model.decode_head.c1_in_channels: 256 -> 40' in lines
    assert any(line.startswith('note: no checkpoint given') for line in lines)
    assert out.read_text() == text


def test_refusal_is_one_line_and_writes_nothing(tmp_path, capsys):
    """Faster R-CNN C4: the RoI head runs ResNet's stage 4 on the backbone's
    stage-3 output; its widths come from that ResNet, not from a field."""
    out = tmp_path / 'never.py'
    code = load_tool().main([C4, '--arch', 'atto', '--out', str(out),
                             '--check'])
    captured = capsys.readouterr()
    assert code == 2
    refusal = [line for line in captured.err.splitlines()
               if line.startswith('cannot swap')]
    assert len(refusal) == 1, captured.err
    assert 'model.roi_head.bbox_head.in_channels=2048' in refusal[0]
    assert not out.exists() and captured.out == ''


@pytest.mark.slow
def test_cli_check_reports_one_line(tmp_path):
    out = tmp_path / 'small.py'
    proc = run(TOOL, RETINANET, '--arch',
               'dict(depths=[1, 1, 1, 1], channels=[8, 16, 32, 64])',
               '--checkpoint', 'https://example.com/w.pt', '--lr-decay', '0.8',
               '--drop-path-rate', '0', '--out', str(out), '--check',
               '--check-size', '64')
    assert proc.returncode == 0, proc.stderr
    check = proc.stdout.splitlines()[-1]
    assert check.startswith('check: built on CPU, ') and 'M parameters, ' \
        'weights random (URL not fetched); one loss step of model (' in check
    assert 'loss_cls=' in check
    cfg = Config.fromfile(str(out))
    assert cfg.model.backbone.drop_path_rate == 0
    assert cfg.optim_wrapper.paramwise_cfg.decay_rate == 0.8


def test_arch_text_and_default_out():
    tool = load_tool()
    assert tool.parse_arch(' tiny ') == 'tiny'
    custom = dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])
    assert tool.parse_arch(
        'dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])') == custom
    assert tool.parse_arch(json.dumps(custom)) == custom
    assert tool.default_out(RETINANET, 'tiny') == osp.join(
        'work_dirs', 'swapped', 'retinanet_r50_fpn_1x_coco_convnext-v2-tiny.py')
    assert tool.default_out('a/b.py', custom).endswith('b_convnext-v2-custom.py')


def test_check_failure_is_one_line(tmp_path, monkeypatch, capsys):
    tool = load_tool()

    def fails(*args):
        raise RuntimeError('no CPU kernel\nmore detail')

    monkeypatch.setattr(tool, 'check_config', fails)
    out = tmp_path / 'swapped.py'
    code = tool.main([RETINANET, '--arch', 'atto', '--out', str(out),
                      '--check'])
    captured = capsys.readouterr()
    assert code == 1 and out.exists()
    assert captured.err == 'check failed: RuntimeError: no CPU kernel\n'
    assert captured.out.startswith(f'wrote {out}\n')
