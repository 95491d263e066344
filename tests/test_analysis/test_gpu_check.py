"""The GPU check on CPU: its report handling
(mmconvnextv2.analysis.gpu_check), then tools/analysis_tools/gpu_check.py's
arguments and, in a dry run of every item, the JSON it writes."""
import json
import subprocess

import pytest
import torch

from mmconvnextv2.analysis.gpu_check import merge_previous, run_item
from mmconvnextv2.analysis.runner import capture_tool

TOOL = 'tools/analysis_tools/gpu_check.py'


def run(*args: str) -> subprocess.CompletedProcess:
    return capture_tool(TOOL, args, timeout=600)


def test_run_item_records_a_failure_and_goes_on(capsys):
    report = dict(backbone=[], failed=[])
    run_item(report, 'backbone', lambda: dict(img_per_s=1.), 'tiny:4')

    def fails():
        raise ValueError('no')

    run_item(report, 'backbone', fails, 'base:32')
    ok, bad = report['backbone']
    assert ok['img_per_s'] == 1. and 'wall_s' in ok
    assert bad['item'] == 'base:32' and bad['error'] == 'ValueError: no'
    assert report['failed'] == ['backbone base:32']
    assert capsys.readouterr().out.count('{"backbone"') == 2


def test_merge_previous_keeps_the_sections_not_run(tmp_path):
    path = tmp_path / 'check.json'
    merge_previous(dict(failed=[]), str(path), ['fcmae'])  # no file: no-op
    path.write_text(json.dumps(dict(
        env={'device': 'old'}, backbone=[1], fcmae=[2], train_steps=[3],
        failed=['backbone tiny:4', 'fcmae atto:64'])))
    report = dict(env={}, backbone=[], fcmae=[9], train_steps=[],
                  failed=['fcmae base:64'])
    merge_previous(report, str(path), ['fcmae'])
    assert report['backbone'] == [1] and report['train_steps'] == [3]
    assert report['fcmae'] == [9] and report['env_before'] == {'device': 'old'}
    assert report['failed'] == ['fcmae base:64', 'backbone tiny:4']


def test_arguments_are_checked(tmp_path):
    out = tmp_path / 'x.json'
    bad = run('--dry-run', '--out', str(out), '--backbone-cases', 'base:x')
    assert bad.returncode == 2 and "'base:x' is not ARCH:BATCH" in bad.stderr
    if not torch.cuda.is_available():
        no_gpu = run('--out', str(out))
        assert no_gpu.returncode == 2 and 'no CUDA device' in no_gpu.stderr
    assert not out.exists()


@pytest.mark.slow
def test_dry_run_writes_every_section(tmp_path):
    out = tmp_path / 'check.json'
    done = run('--dry-run', '--out', str(out))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report['schema'] == 1 and report['failed'] == []
    assert report['env']['dry_run'] is True and report['env']['mmcv_ops_on_device']
    backbone, = report['backbone']
    assert set(backbone['img_per_s']) == {'ours', 'mmpretrain', 'timm'}
    assert backbone['ours_vs_timm'] > 0
    fcmae, = report['fcmae']
    assert set(fcmae['step_ms']) == {'sparse', 'dense_masked'}
    assert fcmae['dense_over_sparse'] > 0
    assert 1 < fcmae['flop_limit'] < 1 / (1 - fcmae['mask_ratio'])
    assert fcmae['share_of_flop_limit'] == pytest.approx(
        fcmae['dense_over_sparse'] / fcmae['flop_limit'], abs=2e-3)
    compiled, = report['fcmae_compiled']
    assert set(compiled['step_ms']) == {'eager', 'compiled'}
    assert compiled['backend'] == 'eager' and compiled['eager_over_compiled'] > 0
    steps = {s['name']: s for s in report['train_steps']}
    assert set(steps) == {'mask_rcnn_base_lsj', 'mask_rcnn_base',
                          'mask_rcnn_base_v1_mmdet', 'upernet_base',
                          'upernet_base_v1_mmseg'}
    for name, step in steps.items():
        assert step['backbone'] == ('v1' if 'v1' in name else 'v2')
        head = 'loss_mask' if name.startswith('mask') else 'decode.loss_ce'
        assert head in step['losses']
    for step in steps.values():
        assert step['step_ms'] > 0 and step['size'] == 128

    # --update replaces the sections run now and keeps the others
    again = run('--dry-run', '--update', '--out', str(out),
                '--sections', 'fcmae', '--amp-dtype', 'bfloat16')
    assert again.returncode == 0, again.stderr[-2000:]
    merged = json.loads(out.read_text())
    assert merged['backbone'] == report['backbone']
    assert merged['train_steps'] == report['train_steps']
    assert merged['env']['amp_dtype'] == 'bfloat16'
    assert merged['fcmae'][0]['step_ms']['sparse'] > 0
