"""mmconvnextv2.analysis.quickstart: the main job's plan without running it
(tests/test_tools/test_quickstart.py runs it in its smoke mode)."""
import math

import pytest

from mmconvnextv2.analysis.quickstart import (LR, PRETRAIN_ITERS, beyond_edge,
                                              config_length, downstream,
                                              payoff_budgets, pretrain_budget,
                                              run_dirs, sweep_table)
from mmconvnextv2.analysis.summary import mean_std


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
    """The sweep's loop with a stand-in for the study (the real tools run in
    tests/test_tools/test_quickstart.py): scores peak at det 4e-4 and seg
    9e-2 for both starts, so det needs one step up, seg two."""
    from mmconvnextv2.analysis import quickstart as qs
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

    monkeypatch.setattr(qs, 'make_data', lambda *a, **k: 0.)
    monkeypatch.setattr(qs.payoff, 'run_study', fake_study)
    monkeypatch.setattr(qs.payoff, 'write_outputs', lambda study, work: '')
    grid = {'det': [2e-4, 4e-4], 'seg': [1e-2, 3e-2]}
    result = qs.lr_sweep(str(tmp_path), str(tmp_path / 'data'), 8, False, 2,
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
    result = qs.lr_sweep(str(tmp_path), str(tmp_path / 'data'), 8, False, 2,
                         True, grid=grid, max_extensions=1)
    assert len(calls) == 2 and result['best']['seg_fcmae'] == 9e-2
    assert (tmp_path / 'lr_sweep.md').read_text().count('(grid edge)') == 2
