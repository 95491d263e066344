"""The payoff study (mmconvnextv2.analysis.payoff) through
tools/analysis_tools/fcmae_payoff.py: the whole study in a reduced mode
(2 budgets, 2 seeds, 2 iterations) through the real tools, run twice (the
second call reuses every run). Its parts: test_schedule.py, test_results.py,
test_summary.py."""
import json
import math
import os.path as osp

import pytest

from mmconvnextv2.analysis.runner import data_options
from mmconvnextv2.datasets import make_synthetic_data
from helpers.tools import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FCMAE = 'configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py'
SEG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'


def load_tool():
    return load_script('tools/analysis_tools/fcmae_payoff.py')


@pytest.mark.slow
def test_reduced_study_end_to_end_and_reuse(tmp_path, capsys):
    tool = load_tool()
    data = tmp_path / 'data'
    make_synthetic_data(str(data), seed=0, num_train=4, num_val=2, size=64,
                        which=['ade'], num_unlabelled=8)
    work = tmp_path / 'study'
    args = [FCMAE, SEG, '--budgets', '0', '2', '--seeds', '0', '1',
            '--jobs', '2', '--quiet', '--work-dir', str(work),
            '--pretrain-options', *data_options('root', data, ['train']),
            'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            '--finetune-options', *data_options('seg', data),
            'train_cfg.max_iters=2', 'train_cfg.val_begin=1000',
            'default_hooks.checkpoint.interval=2']
    study = tool.main(args)
    out = capsys.readouterr().out
    assert '[payoff] 5/5 done' in out and 'left' in out  # progress lines
    assert len(study['runs']) == 4
    for run in study['runs']:
        assert math.isfinite(run['headline']['mIoU'])
        assert run['train_s'] > 0 and run['test_s'] > 0
    assert sorted((r['budget'], r['seed']) for r in study['runs']) == \
        [(0, 0), (0, 1), (2, 0), (2, 1)]
    assert osp.isfile(work / 'pretrain' / 'iter_2.pth')
    # the fine-tuning from budget 2 read the pre-trained backbone
    log = (work / 'upernet_convnext-v2-atto_synthetic-128x128' / 'b2_s1' /
           'tool.log').read_text()
    assert 'iter_2.pth' in log
    saved = json.loads((work / 'payoff.json').read_text())
    cells = saved['summary']['upernet_convnext-v2-atto_synthetic-128x128'][
        'mIoU']
    assert set(cells) == {'0', '2'}
    assert all(c['n'] == 2 and math.isfinite(c['std']) for c in cells.values())
    table = (work / 'payoff.md').read_text()
    assert 'random init' in table and 'FCMAE 2 it' in table
    assert table.count('| upernet_convnext-v2-atto_synthetic-128x128 |') == 5
    assert (work / 'payoff.png').stat().st_size > 1000
    # a second call reuses everything: no tool runs
    again = tool.main(args)
    assert again['pretrain']['train_s'] == 0
    assert all(r['train_s'] == 0 and r['test_s'] == 0 for r in again['runs'])
    assert [r['headline'] for r in again['runs']] == \
        [r['headline'] for r in study['runs']]
