"""mmconvnextv2.analysis.quickstart: the main job's plan without running it
(tests/test_tools/test_quickstart.py runs it in its smoke mode)."""
from mmconvnextv2.analysis.quickstart import (LR, downstream, payoff_budgets,
                                              pretrain_budget, run_dirs,
                                              sweep_table)


def test_budgets_and_run_dirs():
    assert pretrain_budget(smoke=True) == 2
    assert pretrain_budget(smoke=False) == 1000  # the FCMAE config's length
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


def test_sweep_table_picks_each_starts_best():
    def run(task, lr, budget, **metrics):
        return dict(task=f'{task}_lr{lr:g}', budget=budget, headline=metrics)

    runs = [run('det', 1e-4, 0, a=.1, b=.3), run('det', 4e-4, 0, a=.3, b=.3),
            run('det', 1e-4, 8, a=.5, b=.5), run('det', 4e-4, 8, a=.1, b=.1),
            run('seg', 3e-3, 0, mIoU=40.), run('seg', 1e-2, 0, mIoU=30.),
            run('seg', 3e-3, 8, mIoU=60.), run('seg', 1e-2, 8, mIoU=70.)]
    table, best = sweep_table(runs, 8)
    assert best == {'det_random': 4e-4, 'det_fcmae': 1e-4,
                    'seg_random': 3e-3, 'seg_fcmae': 1e-2}
    assert '| det | random | 0.0001: 0.2000, 0.0004: 0.3000 | 0.0004 |' in table
    assert table.count('\n') == 5
