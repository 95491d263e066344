"""The collapse study (``make collapse``) end to end at a tiny budget: both
FCMAE pre-trainings through tools/train.py, then the four analyses; and the
tool's options (a folder of frames, a budget, crops) as they reach both
pre-trainings, with tools/train.py and the analysis replaced."""
import importlib.util
import json
import math
import os.path as osp
import subprocess
import sys

import pytest
from PIL import Image

from mmconvnextv2.analysis import collapse_pretrain
from mmconvnextv2.analysis import collapse_study as study_module
from mmconvnextv2.analysis.collapse_pretrain import (SETTINGS_FILE, V1_CONFIG,
                                                     find_checkpoint, pretrain,
                                                     trend_budgets)
from mmconvnextv2.analysis.collapse_study import LABELS
from mmconvnextv2.analysis.quickstart import FCMAE_CFG

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


def tool():
    """tools/analysis_tools/collapse_study.py as a module."""
    spec = importlib.util.spec_from_file_location('collapse_study_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_runs(monkeypatch):
    """tools/train.py and the analysis replaced: each training writes its
    kept checkpoints; returns the trainings' and the analysis's arguments."""
    calls = {'train': [], 'analyse': []}

    def run_train(config, work_dir, options, threads=1):
        calls['train'].append(dict(config=config, work_dir=work_dir,
                                   options=list(options)))
        budget = int(next(o for o in options if o.startswith(
            'train_cfg.max_iters=')).split('=')[1])
        for b in trend_budgets(budget):
            with open(osp.join(work_dir, f'iter_{b}.pth'), 'wb'):
                pass
        return 1.

    def analyse(trained, budget, image_dir, work_dir, taps, num_images,
                size, seed, progress):
        calls['analyse'].append(dict(image_dir=image_dir, size=size,
                                     num_images=num_images))
        blocks = [dict(stage=0, block=0, distance=0.4, dead=0.)]
        return {tap: {label: dict(tap=tap, num_images=2, blocks=blocks)
                      for label in LABELS} for tap in taps}, {}

    monkeypatch.setattr(collapse_pretrain, 'run_train', run_train)
    monkeypatch.setattr(study_module, '_analyse', analyse)
    return calls


def test_images_and_budget_reach_both_pretrainings(tmp_path, fake_runs):
    frames = tmp_path / 'droplets' / 'frames'
    frames.mkdir(parents=True)
    for i, size in enumerate([(1280, 400), (1920, 1080), (1280, 400)]):
        Image.new('RGB', size, (60 * i, 90, 30)).save(frames / f'v{i}.jpg')
    work = tmp_path / 'work'
    args = ['--images', str(frames), '--pretrain-iters', '8', '--seed', '3',
            '--work-dir', str(work), '--taps', 'mlp']
    study = tool().main(args)
    v1, v2 = sorted(fake_runs['train'], key=lambda c: c['config'] != V1_CONFIG)
    assert (v1['config'], v2['config']) == (V1_CONFIG, FCMAE_CFG)
    assert v1['options'] == v2['options']
    assert len(set(v1['options'])) == len(v1['options'])
    for option in (
            'train_cfg.max_iters=8', 'param_scheduler.1.end=8',
            'randomness.seed=3', 'default_hooks.checkpoint.interval=2',
            f'train_dataloader.dataset.data_root={frames.parent}/',
            'train_dataloader.dataset.data_prefix=frames',
            'train_dataloader.dataset.pipeline.1.scale=160',
            'train_dataloader.dataset.pipeline.1.crop_ratio_range='
            '(0.156,0.625)'):
        assert option in v1['options'], option
    # measured on the pre-training frames, at the pre-training crop
    assert fake_runs['analyse'] == [dict(image_dir=str(frames), size=160,
                                         num_images=32)]
    assert study['budget'] == 8 and study['pretrain_images'] == str(frames)
    assert study['crops']['size'] == 160
    head = (work / 'study.md').read_text().splitlines()[2]
    assert '8 iterations' in head and f'`{frames}`' in head
    assert json.loads((work / 'fcmae_v1' / SETTINGS_FILE).read_text())[
        'options'] == v1['options']
    # the same work dir with other settings is refused, not resumed
    with pytest.raises(SystemExit, match='other settings'):
        tool().main(args[:3] + ['12'] + args[4:])
    assert len(fake_runs['train']) == 2
    # given crops and another measured folder
    fake_runs['train'].clear()
    val = tmp_path / 'val'
    val.mkdir()
    Image.new('RGB', (96, 96)).save(val / 'a.png')
    tool().main(args[:-4] + ['--work-dir', str(tmp_path / 'w2'),
                             '--crop-size', '192', '--crop-ratio', '0.1,0.5',
                             '--measure-images', str(val)])
    v1, v2 = fake_runs['train']
    assert v1['options'] == v2['options']
    assert 'train_dataloader.dataset.pipeline.1.scale=192' in v1['options']
    assert fake_runs['analyse'][-1]['image_dir'] == str(val)
    assert fake_runs['analyse'][-1]['size'] == 192


def test_the_default_study_keeps_its_data_and_crops(tmp_path, fake_runs):
    data = tmp_path / 'data'
    study = tool().main(['--smoke', '--data-root', str(data), '--work-dir',
                         str(tmp_path / 'work'), '--taps', 'mlp'])
    v1, v2 = fake_runs['train']
    assert v1['options'] == v2['options']
    assert v1['options'][-1] == f'train_dataloader.dataset.data_root={data}/'
    assert 'train_cfg.max_iters=2' in v1['options']
    assert not any('pipeline' in o for o in v1['options'])
    assert fake_runs['analyse'][0]['image_dir'] == str(data / 'coco' / 'val')
    assert fake_runs['analyse'][0]['size'] == 224
    assert study['crops']['size'] == 128
    assert study['pretrain_images'] == str(data / 'unlabelled')
