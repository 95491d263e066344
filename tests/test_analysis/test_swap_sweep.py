"""The swap family sweep (mmconvnextv2.analysis.swap_sweep and
swap_sweep_report): its parts without sweeping (each family in a forked
process with a time limit, its rows as JSON, resumable, and as Markdown),
then tools/analysis_tools/swap_backbone_table.py as a command."""
import json
import os
import time

import pytest
import torch

from mmconvnextv2.analysis import swap_sweep as sweep
from mmconvnextv2.analysis.runner import capture_tool
from mmconvnextv2.analysis.swap_sweep_report import markdown
from mmconvnextv2.utils import read_json

TABLE = 'tools/analysis_tools/swap_backbone_table.py'

ROWS = [
    dict(family='mmdet/atss', config='mmdet::atss/atss_r50_fpn_1x_coco.py',
         status='ok', params=3.5e6, size=128, changed=['a', 'b'],
         trained='model'),
    dict(family='mmdet/common', config=None, status='skipped',
         reason='no config with a model'),
    dict(family='mmdet/x', config='mmdet::x/x.py', status='check failed',
         reason='ValueError: a|b', original_step='passes'),
    dict(family='mmseg/y', config='mmseg::y/y.py', status='ok', params=1e6,
         size=512, changed=['a'], trained='model.student'),
]


@pytest.fixture(autouse=True)
def threads_restored():
    """The sweep runs with one intra-op thread: it sets that for the
    process, so each test gives the session its threads back."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_markdown():
    text = markdown(ROWS, 128, [320, 512])
    lines = text.splitlines()
    assert lines[0].startswith(
        'Swapped (ConvNeXt V2-atto) and checked (CPU build + one loss step, '
        'batch 2, 128 px, or 320 / 512 px where 128 is too small for the '
        'head): **2 / 3 families = 66.7%** of those whose original model '
        'builds on CPU (1 of 4 families skipped')
    assert '- mmdet/x: check failed: ValueError: a|b (original on CPU: '\
        'passes)' in lines
    assert '- mmdet/common: no config with a model' in lines
    assert '| mmdet/atss | atss_r50_fpn_1x_coco.py | ok | 3.5M params, '\
        '128 px, 2 fields changed |' in lines
    assert '| mmdet/x | x.py | check failed | ValueError: a\\|b (original '\
        'on CPU: passes) |' in lines
    assert lines[-1] == ('| mmseg/y | y.py | ok | 1.0M params, 512 px, 1 '
                         'fields changed, trained model.student |')
    assert text.endswith('|\n')


def _sleep(*args):
    time.sleep(3)  # past the 1 s limit; the runner waits for it 5 s at most


def _raise(*args):
    raise RuntimeError('first line\nsecond line')


def _die(*args):
    os._exit(3)


def _row(family, *args):
    return dict(family=family, status='ok')


@pytest.mark.parametrize('measure, status, reason', [
    (_row, 'ok', None),
    (_sleep, 'error', 'timed out after 1 s'),
    (_raise, 'error', 'RuntimeError: first line'),
    # the parent holds the pipe's sending end open too, so a child that
    # dies is seen when the time is up (as the table's own code did)
    (_die, 'error', ('process died (exit code 3)', 'timed out after 1 s')),
])
def test_run_family_outcomes(measure, status, reason, monkeypatch, tmp_path):
    monkeypatch.setattr(sweep, 'measure', measure)
    row = sweep.run_family('mmdet/atss', str(tmp_path), 128, [320], 1)
    assert row['family'] == 'mmdet/atss' and row['status'] == status
    reasons = reason if isinstance(reason, tuple) else (reason, )
    assert row.get('reason') in reasons
    assert row['wall_s'] < 20


def test_sweep_writes_rows_and_resumes(monkeypatch, tmp_path):
    ran = []

    def run_family(family, out_dir, size, retry_size, timeout):
        ran.append(family)
        return dict(family=family, status='ok', wall_s=0.0)

    monkeypatch.setattr(sweep, 'run_family', run_family)
    json_path = str(tmp_path / 'rows.json')
    seen = []
    rows = sweep.sweep(['mmseg/b', 'mmdet/a'], json_path,
                       str(tmp_path / 'configs'), 128, [320], 10,
                       on_row=seen.append)
    assert [r['family'] for r in rows] == ['mmdet/a', 'mmseg/b']  # sorted
    assert [r['family'] for r in seen] == ['mmseg/b', 'mmdet/a']  # as run
    assert os.path.isdir(tmp_path / 'configs')
    assert read_json(json_path) == dict(size=128, rows=seen)
    rows = sweep.sweep(['mmdet/a', 'mmdet/c'], json_path,
                       str(tmp_path / 'configs'), 128, [320], 10, resume=True)
    assert ran == ['mmseg/b', 'mmdet/a', 'mmdet/c']
    assert [r['family'] for r in rows] == ['mmdet/a', 'mmdet/c', 'mmseg/b']


def test_families_and_their_first_config():
    names = sweep.families()
    assert 'mmdet/atss' in names and 'mmseg/upernet' in names
    assert not any(name.endswith('/_base_') for name in names)
    assert sweep.first_model_config('mmdet/atss') == \
        'mmdet::atss/atss_r101_fpn_1x_coco.py'
    assert sweep.first_model_config('mmdet/common') is None


@pytest.mark.slow
def test_table_only_json_and_resume(tmp_path):
    out = tmp_path / 'table.md'
    rows = tmp_path / 'rows.json'
    proc = capture_tool(TABLE, [out, '--only', 'mmdet/common', '--json', rows,
                                '--timeout', '120'], timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith('mmdet/common: skipped no config with a model (')
    assert lines[-1] == f'wrote {out} and {rows}'
    data = json.loads(rows.read_text())
    assert data['size'] == 128 and [r['status'] for r in data['rows']] == [
        'skipped']
    text = out.read_text()
    assert '**0 / 0 families = 0.0%**' in text
    assert '| mmdet/common |  | skipped | no config with a model |' in text
    assert (tmp_path / 'swap_table_configs').is_dir()
    again = capture_tool(TABLE, [out, '--only', 'mmdet/common', '--json', rows,
                                 '--resume'], timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f'wrote {out} and {rows}']
    assert out.read_text() == text
