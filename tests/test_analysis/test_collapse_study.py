"""The collapse study (``make collapse``) end to end at a tiny budget: both
FCMAE pre-trainings through tools/train.py, then the four analyses."""
import json
import math
import os.path as osp
import subprocess
import sys

import pytest

from mmconvnextv2.analysis.collapse_pretrain import (find_checkpoint, pretrain,
                                                     trend_budgets)
from mmconvnextv2.analysis.collapse_study import LABELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'collapse_study.py')


@pytest.mark.slow
def test_reduced_collapse_study(tmp_path):
    work, data = tmp_path / 'collapse', tmp_path / 'data'
    cmd = [sys.executable, TOOL, '--smoke', '--work-dir', str(work),
           '--data-root', str(data), '--size', '64', '--taps', 'mlp', 'block']
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert '| V1-FCMAE |' in proc.stdout
    study = json.loads((work / 'study.json').read_text())
    assert study['budget'] == 2 and study['num_images'] == 2
    assert not any(r['reused'] for r in study['pretrain'].values())
    for tap in ('mlp', 'block'):
        collapse = json.loads((work / tap / 'collapse.json').read_text())
        assert list(collapse) == list(LABELS)
        assert collapse['V1-FCMAE']['block_type'] == 'v1'
        assert collapse['V2-FCMAE']['block_type'] == 'v2'
        for record in collapse.values():
            assert record['tap'] == tap and len(record['blocks']) == 12
            for block in record['blocks']:
                assert math.isfinite(block['distance'])
                assert 0 <= block['distance'] <= 0.5
                assert 0 <= block['dead'] <= 1
        for picture in ('collapse.png', 'activations.png'):
            assert (work / tap / picture).stat().st_size > 10000
    assert (work / 'study.md').read_text().count('## Tap') == 2
    # the first tap along the pre-training: random (0), every kept checkpoint
    assert sorted(study['trend'], key=int) == ['0', '1', '2']
    for point in study['trend'].values():
        assert set(point) == {'V1', 'V2'}
        assert all(math.isfinite(m['distance']) for arm in point.values()
                   for m in arm['stages'])
    assert (work / 'trend.png').stat().st_size > 10000
    # a second run reuses both pre-trainings
    again = subprocess.run(cmd + ['--taps', 'mlp'], cwd=ROOT,
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count('reusing') == 2


def test_trend_budgets():
    assert trend_budgets(1000) == [250, 500, 750, 1000]
    assert trend_budgets(2) == [1, 2]
    assert trend_budgets(10) == [2, 4, 6, 8, 10]


def test_reuse_prefers_an_earlier_run(tmp_path):
    assert find_checkpoint(str(tmp_path), 5) is None
    (tmp_path / 'iter_5.pth').write_bytes(b'')
    assert find_checkpoint(str(tmp_path), 5) == str(tmp_path / 'iter_5.pth')
    earlier = tmp_path / 'quickstart'
    earlier.mkdir()
    (earlier / 'iter_5.pth').write_bytes(b'')
    done = pretrain({'V2': dict(config='unused.py', work_dir=str(tmp_path / 'x'),
                                reuse=[str(earlier)]),
                     'V1': dict(config='unused.py', work_dir=str(tmp_path))},
                    5, 0, [])
    assert done['V2'] == dict(checkpoint=str(earlier / 'iter_5.pth'),
                              train_s=0., reused=True)
    assert done['V1']['checkpoint'] == str(tmp_path / 'iter_5.pth')
