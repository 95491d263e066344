"""The quickstart entry point end to end, in its reduced (--smoke) mode."""
import importlib.util
import math
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_quickstart():
    spec = importlib.util.spec_from_file_location(
        'quickstart', osp.join(ROOT, 'tools/quickstart.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quickstart_smoke_end_to_end(tmp_path, capsys):
    quickstart = load_quickstart()
    args = ['--smoke', '--quiet', '--work-dir', str(tmp_path / 'qs'),
            '--data-root', str(tmp_path / 'data')]
    results = quickstart.main(args)
    work = tmp_path / 'qs'
    # the console: one line per stage event with its progress, the table,
    # the pictures and the logs; the tools' chatter only in their logs
    out = capsys.readouterr().out
    assert '[pretrain train] started' in out
    assert '[det/b0_s0 train] done in' in out and '[det/b0_s0 test] done' in out
    assert 'Loads checkpoint' not in out and 'init_weights' not in out
    assert 'pictures:' in out and 'logs:' in out
    assert 'Iter(train)' in (work / 'pretrain' / 'tool.log').read_text()
    for name in ('results.json', 'results.md', 'fcmae_reconstruction.png',
                 'loss_curves.png', 'det_results.jpg', 'seg_results.png'):
        assert (work / name).is_file(), name
    # ground truth | FCMAE start | random start, a row per validation image
    # (the smoke data has 2), each tile the 128 px image magnified 2x
    from PIL import Image
    assert Image.open(work / 'seg_results.png').size == (3 * 256, 22 + 2 * 256)
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
def test_lr_sweep_smoke_runs_every_rate_start_and_seed(tmp_path):
    """The sweep through the real tools, one rate per task (the loop that
    extends the grid is tested with a stand-in study in
    tests/test_analysis/test_quickstart_plan.py)."""
    from mmconvnextv2.analysis import quickstart as plan
    work = tmp_path / 'sweep'
    result = plan.lr_sweep(str(work), str(tmp_path / 'data'), 2, smoke=True,
                           jobs=2, quiet=True,
                           grid={'det': [4e-4], 'seg': [1e-2]})
    runs = result['study']['runs']
    assert sorted((r['task'], r['budget'], r['seed']) for r in runs) == sorted(
        (task, budget, seed) for task in ('det_lr0.0004', 'seg_lr0.01')
        for budget in (0, 2) for seed in plan.SWEEP_SEEDS)
    assert all(math.isfinite(v) for r in runs for v in r['headline'].values())
    assert result['best'] == {'det_random': 4e-4, 'det_fcmae': 4e-4,
                              'seg_random': 1e-2, 'seg_fcmae': 1e-2}
    text = (work / 'lr_sweep.md').read_text()
    assert '| seg | fcmae | 0.01: ' in text and '(2)' in text
    # the sweep's own data: seed 100's unlabelled pool
    assert len(list((tmp_path / 'data' / 'unlabelled').glob('*.jpg'))) == 8
