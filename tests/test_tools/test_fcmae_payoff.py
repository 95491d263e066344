"""The FCMAE payoff study: schedule stretching, statistics, and the whole
study in a reduced mode (2 budgets, 2 seeds, 2 iterations) through the real
tools, run twice (the second call reuses every run)."""
import importlib.util
import json
import math
import os.path as osp
import statistics

import pytest

from mmconvnextv2.datasets import make_synthetic_data

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FCMAE = 'configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py'
SEG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'fcmae_payoff', osp.join(ROOT, 'tools/analysis_tools/fcmae_payoff.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stretch_schedule_scales_every_iteration_count():
    tool = load_tool()
    options = tool.stretch_schedule(FCMAE, 500)  # the config: 1000, 50 warm-up
    assert options[0] == 'train_cfg.max_iters=500'
    assert 'param_scheduler.0.end=25' in options
    assert 'param_scheduler.1.begin=25' in options
    assert 'param_scheduler.1.end=500' in options
    assert 'param_scheduler.1.T_max=475' in options


def test_stretch_schedule_refuses_epoch_based_configs():
    tool = load_tool()
    with pytest.raises(ValueError, match='does not train by iterations'):
        tool.stretch_schedule(
            'configs/fcmae/fcmae_convnext-v2-atto_8xb512-amp-coslr-800e_in1k.py',
            100)


def test_summary_and_verdicts():
    tool = load_tool()
    runs = [dict(task='seg', budget=b, seed=s, headline={'mIoU': v})
            for b, s, v in [(0, 0, 30.), (0, 1, 34.), (0, 2, 32.),
                            (100, 0, 40.), (100, 1, 37.), (100, 2, 43.)]]
    summary = tool.summarise(runs)
    cell = summary['seg']['mIoU']['100']
    assert cell['n'] == 3 and cell['values'] == [40., 37., 43.]
    assert math.isclose(cell['mean'], statistics.mean([40., 37., 43.]))
    assert math.isclose(cell['std'], statistics.stdev([40., 37., 43.]))
    (verdict, ) = tool.verdicts(summary)
    assert verdict['ahead'] and math.isclose(verdict['gap'], 8.)
    # a gap within the spread of either arm is not "ahead"
    runs[3]['headline']['mIoU'] = 20.
    (verdict, ) = tool.verdicts(tool.summarise(runs))
    assert not verdict['ahead']


def test_headline_metrics():
    tool = load_tool()
    assert tool.headline({'mIoU': 50., 'aAcc': 90., 'mAcc': 60.}) == \
        {'mIoU': 50.}
    assert tool.headline({'a': 1, 'b': 2.}, ['b']) == {'b': 2.}
    with pytest.raises(KeyError, match='coco/bbox_mAP'):
        tool.headline({'mIoU': 1.}, ['coco/bbox_mAP'])


def test_reduced_study_end_to_end_and_reuse(tmp_path, capsys):
    tool = load_tool()
    data = tmp_path / 'data'
    make_synthetic_data(str(data), seed=0, num_train=4, num_val=2, size=64,
                        which=['ade'], num_unlabelled=8)
    work = tmp_path / 'study'
    args = [FCMAE, SEG, '--budgets', '0', '2', '--seeds', '0', '1',
            '--jobs', '2', '--quiet', '--work-dir', str(work),
            '--pretrain-options', f'train_dataloader.dataset.data_root={data}',
            'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            '--finetune-options'] + [
                f'{split}_dataloader.dataset.data_root={data}/ade'
                for split in ('train', 'val', 'test')] + [
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
