"""The quickstart: its plan (mmconvnextv2.analysis.quickstart), the
learning-rate sweep's table and loop (quickstart_sweep) without running
them, then tools/quickstart.py end to end in its reduced (--smoke) mode, and
what the sweep hands the study it runs."""
import contextlib
import io
import json
import math
import os
import os.path as osp

import pytest

from mmconvnextv2.analysis import quickstart_sweep as sweep
from mmconvnextv2.analysis.quickstart import (LR, PRETRAIN_ITERS,
                                              config_length, downstream,
                                              payoff_budgets, pretrain_budget,
                                              run_dirs)
from mmconvnextv2.analysis.quickstart_report import write_table
from mmconvnextv2.analysis.quickstart_run import synthetic_notes
from mmconvnextv2.analysis.quickstart_sweep import beyond_edge, sweep_table
from mmconvnextv2.analysis.summary import mean_std
from helpers.tools import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_quickstart():
    return load_script('tools/quickstart.py')


def test_budgets_and_run_dirs():
    assert pretrain_budget(smoke=True) == 2
    assert pretrain_budget(smoke=False) == PRETRAIN_ITERS == 500
    assert config_length(smoke=False) == 1000  # the FCMAE config's own
    assert config_length(smoke=True) == 2
    assert payoff_budgets(500) == [0, 125, 250, 500]
    assert payoff_budgets(1000) == [0, 250, 500, 1000]
    assert payoff_budgets(2) == [0, 1, 2]
    assert run_dirs('/w', 1000, 0) == {
        'det_fcmae': '/w/det/b1000_s0', 'det_random': '/w/det/b0_s0',
        'seg_fcmae': '/w/seg/b1000_s0', 'seg_random': '/w/seg/b0_s0'}


def test_downstream_tasks_carry_data_and_learning_rates():
    det, seg = downstream('/d', smoke=False)
    assert det.name == 'det' and seg.name == 'seg'
    assert 'train_dataloader.dataset.data_root=/d/coco/' in det.options
    assert 'val_evaluator.ann_file=/d/coco/annotations/instances_val.json' \
        in det.options
    assert 'train_cfg.val_begin=1000000' in seg.options
    assert seg.random_options == [f'optim_wrapper.optimizer.lr={LR["seg"]["random"]:g}']
    assert seg.fcmae_options == ['optim_wrapper.optimizer.lr=0.01']
    smoke, _ = downstream('/d', smoke=True)
    assert 'train_cfg.max_iters=2' in smoke.options


def test_sweep_table_picks_each_starts_best_mean_over_seeds():
    def run(task, lr, budget, **metrics):
        return dict(task=f'{task}_lr{lr:g}', budget=budget, headline=metrics)

    runs = [run('det', 1e-4, 0, a=.1, b=.3), run('det', 4e-4, 0, a=.3, b=.3),
            run('det', 4e-4, 0, a=.1, b=.05), run('det', 1e-4, 0, a=.2, b=.2),
            run('det', 2e-4, 0, a=.1, b=.1),
            run('det', 1e-4, 8, a=.5, b=.5), run('det', 4e-4, 8, a=.1, b=.1),
            run('det', 2e-4, 8, a=.4, b=.4),
            run('seg', 3e-3, 0, mIoU=40.), run('seg', 1e-2, 0, mIoU=30.),
            run('seg', 1e-3, 0, mIoU=20.),
            run('seg', 3e-3, 8, mIoU=60.), run('seg', 1e-2, 8, mIoU=70.)]
    table, best, beyond = sweep_table(runs, 8)
    # det random: 1e-4 scores 0.2 and 0.2 (mean 0.2), 4e-4 0.3 and 0.075
    # (mean 0.1875): the mean over seeds decides, not the single best run
    assert best == {'det_random': 1e-4, 'det_fcmae': 1e-4,
                    'seg_random': 3e-3, 'seg_fcmae': 1e-2}
    assert ('| det | random | 0.0001: 0.2000 ± 0.0000 (2), 0.0002: 0.1000 ± '
            '0.0000 (1), 0.0004: 0.1875 ± 0.1591 (2) | 0.0001 (grid edge) |'
            ) in table
    assert '| seg | random | 0.001: 20.0000 ± 0.0000 (1), 0.003: 40.0000' in table
    assert table.count('\n') == 5
    # edges: det (both starts best at 1e-4) and seg fcmae (best at 1e-2)
    assert beyond == {'det': pytest.approx([5e-5, 5e-5]),
                      'seg': [pytest.approx(1e-2 * 1e-2 / 3e-3)]}


def test_beyond_edge_steps_past_the_best_edge_only():
    scores = {lr: mean_std([v]) for lr, v in ((1e-3, 1.), (3e-3, 2.), (1e-2, 3.))}
    assert beyond_edge(scores) == pytest.approx(1e-2 * 1e-2 / 3e-3)
    scores[1e-2] = mean_std([0.])
    assert beyond_edge(scores) is None  # bracketed: 1e-3 < 3e-3 < 1e-2
    scores[1e-3] = mean_std([5.])
    assert beyond_edge(scores) == pytest.approx(1e-3 / 3)


def test_lr_sweep_extends_the_grid_until_each_optimum_is_bracketed(
        tmp_path, monkeypatch):
    """The sweep's loop with a stand-in for the study (the real tools run
    in the smoke test below): scores peak at det 4e-4 and seg 9e-2 for both
    starts, so det needs one step up, seg two."""
    peak = {'det': 4e-4, 'seg': 9e-2}
    calls = []

    def fake_study(config, tasks, budgets, seeds, work, *args, **kwargs):
        calls.append(sorted(t.name for t in tasks))
        runs = []
        for t in tasks:
            task, lr = t.name.split('_lr')
            score = -abs(math.log(float(lr) / peak[task]))
            runs += [dict(task=t.name, budget=b, seed=s, headline=dict(m=score))
                     for b in budgets for s in seeds]
        return dict(runs=runs)

    monkeypatch.setattr(sweep, 'make_data', lambda *a, **k: 0.)
    monkeypatch.setattr(sweep.payoff, 'run_study', fake_study)
    monkeypatch.setattr(sweep.payoff, 'write_outputs', lambda study, work: '')
    grid = {'det': [2e-4, 4e-4], 'seg': [1e-2, 3e-2]}
    result = sweep.lr_sweep(str(tmp_path), str(tmp_path / 'data'), 8, False, 2,
                         True, grid=grid)
    assert result['best'] == {'det_random': 4e-4, 'det_fcmae': 4e-4,
                              'seg_random': 9e-2, 'seg_fcmae': 9e-2}
    assert result['grid'] == {'det': [2e-4, 4e-4, 8e-4],
                              'seg': [1e-2, 3e-2, 9e-2, 0.27]}
    assert len(calls) == 3 and len(calls[0]) == 4 and len(calls[2]) == 7
    text = (tmp_path / 'lr_sweep.md').read_text()
    assert '(grid edge)' not in text and 'fine-tuning seeds 0, 1' in text
    # capped: one extension leaves seg's optimum at the edge, and says so
    calls.clear()
    result = sweep.lr_sweep(str(tmp_path), str(tmp_path / 'data'), 8, False, 2,
                         True, grid=grid, max_extensions=1)
    assert len(calls) == 2 and result['best']['seg_fcmae'] == 9e-2
    assert (tmp_path / 'lr_sweep.md').read_text().count('(grid edge)') == 2


def test_the_table(tmp_path):
    """results.md: a row per model, start and metric; results.json: all."""
    def run(kind, start, metrics, train_s):
        return dict(kind=kind, start=start, seed=0, metrics=metrics,
                    train_s=train_s, test_s=2.)

    det = {'coco/bbox_mAP': .25, 'coco/segm_mAP': .3}
    results = dict(runs=dict(det_fcmae=run('det', 'fcmae', det, 10.),
                             det_random=run('det', 'random', det, 9.),
                             seg_fcmae=run('seg', 'fcmae', {'mIoU': 70.}, 8.),
                             seg_random=run('seg', 'random', {}, 7.)),
                   seed=0, budget=500, fcmae_s=100., data_s=3., total_s=130.)
    table = write_table(str(tmp_path), results, 'Quickstart results',
                        synthetic_notes(results))
    lines = table.splitlines()
    assert lines[:3] == [
        '| model | init | metric | value | train (s) | test (s) |',
        '|---|---|---|---|---|---|',
        '| Mask R-CNN | fcmae | bbox mAP | 0.2500 | 10 | 2 |']
    assert '| UperNet | fcmae | mIoU | 70.0000 | 8 | 2 |' in lines
    assert '| UperNet | random | mIoU | nan | 7 | 2 |' in lines
    assert 'Each run:' not in table  # one seed: the rows are the runs
    assert lines[-3].startswith('A run is marked collapsed when its primary '
                                'metric is below the larger of a floor '
                                '(bbox mAP 0.02, mIoU 2)')
    assert lines[-1] == (
        'Seed 0; FCMAE pre-training: 500 iterations, 100 s (beside the '
        'random-init runs); data: 3 s; total: 130 s (stages reused from an '
        'earlier run count 0 s).')
    assert (tmp_path / 'results.md').read_text() == \
        f'# Quickstart results\n\n{table}\n'
    assert json.loads((tmp_path / 'results.json').read_text()) == results


@pytest.fixture(scope='module')
def smoke_run(tmp_path_factory):
    """tools/quickstart.py --smoke, once per session: its folder, its
    arguments, its results and its console."""
    root = tmp_path_factory.mktemp('quickstart')
    args = ['--smoke', '--quiet', '--work-dir', str(root / 'qs'),
            '--data-root', str(root / 'data')]
    console = io.StringIO()
    with contextlib.redirect_stdout(console):
        results = load_quickstart().main(args)
    return root, args, results, console.getvalue()


@pytest.mark.slow
def test_quickstart_smoke_end_to_end(smoke_run):
    tmp_path, args, results, out = smoke_run
    quickstart = load_quickstart()
    work = tmp_path / 'qs'
    # the console: one line per stage event with its progress, the table,
    # the pictures and the logs; the tools' chatter only in their logs
    assert '[pretrain train] started' in out
    assert '[det/b0_s0 train] done in' in out and '[det/b0_s0 test] done' in out
    assert 'Loads checkpoint' not in out and 'init_weights' not in out
    assert 'pictures:' in out and 'logs:' in out
    assert 'Iter(train)' in (work / 'pretrain' / 'tool.log').read_text()
    for name in ('results.json', 'results.md', 'fcmae_reconstruction.png',
                 'loss_curves.png', 'det_results.jpg', 'seg_results.png'):
        assert (work / name).is_file(), name
    # ground truth | FCMAE start | random start, a row per validation image
    # (the smoke data has 2), each tile the 128 px image magnified 2x, under
    # a line of titles (and, for the detector, the score threshold's)
    from PIL import Image
    assert Image.open(work / 'seg_results.png').size == (3 * 256, 28 + 2 * 256)
    assert Image.open(work / 'det_results.jpg').size == (3 * 256, 52 + 2 * 256)
    for task in ('det', 'seg'):
        log = (work / task / 'b0_s0' / 'tool.log').read_text()
        assert ('default_hooks.visualization.score_thr=0.5' in log) == \
            (task == 'det')
    for run in results['runs'].values():
        assert isinstance(run['collapsed'], bool)
    for run, keys in (('det_fcmae', ['coco/bbox_mAP', 'coco/segm_mAP']),
                      ('det_random', ['coco/bbox_mAP', 'coco/segm_mAP']),
                      ('seg_fcmae', ['mIoU']), ('seg_random', ['mIoU'])):
        for key in keys:
            assert math.isfinite(results['runs'][run]['metrics'][key]), (run, key)
        assert results['runs'][run]['train_s'] > 0
    # the FCMAE-init runs start from the pre-training's last checkpoint; the
    # pre-training also kept the payoff study's budgets (--payoff reuses it)
    assert results['budget'] == 2 and results['seed'] == 0
    assert results['fcmae_checkpoint'].endswith('iter_2.pth')
    assert (work / 'pretrain' / 'iter_1.pth').is_file()
    for task in ('det', 'seg'):
        log = (work / task / 'b2_s0' / 'tool.log').read_text()
        assert 'init_cfg.checkpoint=' + results['fcmae_checkpoint'] in log
        random_log = (work / task / 'b0_s0' / 'tool.log').read_text()
        assert 'init_cfg.checkpoint' not in random_log
    # the unlabelled pool the pre-training read
    assert len(list((tmp_path / 'data' / 'unlabelled').glob('*.jpg'))) == 8
    table = (work / 'results.md').read_text()
    assert table.count('| Mask R-CNN |') == 4 and table.count('| UperNet |') == 2
    # a second run reuses every stage: no training, no testing
    again = quickstart.main(args)
    assert all(r['train_s'] == 0 and r['test_s'] == 0
               for r in again['runs'].values())
    assert again['fcmae_s'] == 0


@pytest.mark.slow
def test_reduced_codesign_study_reuses_the_quickstart(smoke_run):
    """The V1 vs V2 study (smoke) on the quickstart's folder: its V2 arm is
    the quickstart's runs, reused; the V1 arm pre-trains the V1 twin and
    fine-tunes V1 backbones, trained and tested for real."""
    from mmconvnextv2.analysis.codesign import run_codesign
    root = smoke_run[0]
    studies = run_codesign(str(root / 'cd'), str(root / 'qs'),
                           str(root / 'data'), [0], smoke=True, jobs=2,
                           quiet=True)
    assert set(studies) == {'v1', 'v2'}
    for block, s in studies.items():
        assert len(s['runs']) == 4  # 2 tasks x (random, FCMAE)
        for run in s['runs']:
            assert all(math.isfinite(v) for v in run['headline'].values())
            assert (run['train_s'] == 0) == (block == 'v2'), (block, run)
    assert studies['v2']['pretrain']['train_s'] == 0
    assert studies['v1']['pretrain']['train_s'] > 0
    log = (root / 'cd' / 'v1' / 'seg' / 'b2_s0' / 'tool.log').read_text()
    assert 'model.backbone.block_type=v1' in log
    md = (root / 'cd' / 'codesign.md').read_text()
    assert md.count('| det |') == 2 and md.count('| seg |') == 1
    assert (root / 'cd' / 'codesign.png').stat().st_size > 1000


def test_lr_sweep_hands_the_study_each_rate_on_its_own_data(tmp_path,
                                                            monkeypatch):
    """What the sweep gives the study it runs (the study itself, the real
    tools with these options, runs in the smoke test above): every rate of
    both tasks as a task of the quickstart's fine-tuning options plus its
    rate, both starts (budgets 0 and the pre-training's), the sweep's seeds,
    the data of seed :data:`SWEEP_DATA_SEED` and that seed's pre-training;
    then its table of what came back."""
    made, given = [], {}

    def study(config, tasks, budgets, seeds, work, pretrain_options, seed,
              jobs, quiet):
        given.update(config=config, tasks=tasks, budgets=budgets,
                     seeds=seeds, work=work, options=pretrain_options,
                     seed=seed)
        os.makedirs(work, exist_ok=True)  # as the real study does
        return dict(runs=[dict(task=t.name, budget=b, seed=s,
                               headline=dict(m=float(s)))
                          for t in tasks for b in budgets for s in seeds])

    monkeypatch.setattr(sweep, 'make_data',
                        lambda root, seed, smoke: made.append((root, seed)))
    monkeypatch.setattr(sweep.payoff, 'run_study', study)
    written = []
    monkeypatch.setattr(sweep.payoff, 'write_outputs',
                        lambda study, work: written.append(work))
    data = str(tmp_path / 'data')
    result = sweep.lr_sweep(str(tmp_path / 'sweep'), data, 2, smoke=True,
                            jobs=2, quiet=True,
                            grid={'det': [4e-4], 'seg': [1e-2]})
    assert made == [(data, sweep.SWEEP_DATA_SEED)]
    assert given['seed'] == sweep.SWEEP_DATA_SEED
    assert given['config'] == sweep.FCMAE_CFG
    assert given['budgets'] == [0, 2] and given['seeds'] == sweep.SWEEP_SEEDS
    assert given['options'] == sweep.data_options('fcmae', data)
    tasks = {t.name: t for t in given['tasks']}
    assert sorted(tasks) == ['det_lr0.0004', 'seg_lr0.01']
    for name, task, lr in (('det_lr0.0004', 'det', '0.0004'),
                           ('seg_lr0.01', 'seg', '0.01')):
        assert tasks[name].options == sweep.finetune_options(
            task, data, True) + [f'optim_wrapper.optimizer.lr={lr}']
    assert result['best'] == {'det_random': 4e-4, 'det_fcmae': 4e-4,
                              'seg_random': 1e-2, 'seg_fcmae': 1e-2}
    text = (tmp_path / 'sweep' / 'lr_sweep.md').read_text()
    assert '| seg | fcmae | 0.01: 0.5000 ± 0.7071 (2)' in text
    assert written == [str(tmp_path / 'sweep')]
