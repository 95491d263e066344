"""The main job on your own data (tools/quickstart.py --data): its plan
(mmconvnextv2.analysis.quickstart_data) on det, seg and cls folders that
the importer writes here, the sweep's split of the training set, the
pre-training list, the collapse flag, the table with mean ± std and a
collapsed run, the pictures; then the job end to end in smoke mode."""
import json
import math
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from mmconvnextv2.analysis import quickstart_data as qd
from mmconvnextv2.analysis.quickstart_collapse import (collapse_reason,
                                                       loss_change,
                                                       mark_collapses)
from mmconvnextv2.analysis.quickstart_pictures import (PictureSet, _font,
                                                       compare_pictures,
                                                       tile_scale)
from mmconvnextv2.analysis.quickstart_report import write_table
from mmconvnextv2.analysis.quickstart_split import (DataJobError,
                                                    check_apart, image_paths,
                                                    split_images)
from mmconvnextv2.datasets.dataset_info import read_dataset_info
from mmconvnextv2.datasets.importers import import_dataset, name_prefix
from test_quickstart import load_quickstart  # the tool, as a module

TRAIN = [f'seq{g}_{i:03d}.jpg' for g in 'abc' for i in (1, 2)]
VAL = ['seqv_001.jpg', 'seqv_002.jpg']


def polygon(seed: int):
    """The points of a frame's object (inside 80 x 56 px)."""
    x, y = 10 + 7 * (seed % 5), 8 + 3 * (seed % 4)
    return [(x, y), (x + 40, y + 4), (x + 30, y + 36), (x + 4, y + 30)]


def _frame(path, seed: int, size=(96, 64)):
    """Noise with a bright polygon; returns the polygon's points."""
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 90, (size[1], size[0], 3),
                                       dtype=np.uint8))
    points = polygon(seed)
    ImageDraw.Draw(img).polygon(points, fill=(230, 200, 40))
    img.save(path, quality=95)
    return points


def _via(folder, names, first_seed, frame):
    entries = {}
    for i, name in enumerate(names):
        xs, ys = zip(*frame(folder / name, first_seed + i))
        shape = dict(name='polygon', all_points_x=xs, all_points_y=ys)
        entries[name] = dict(filename=name, size=-1, file_attributes={},
                             regions=[dict(region_attributes={},
                                           shape_attributes=shape)])
    return entries


def via_set(src, out, suffix='.jpg', frame=_frame):
    """6 training frames in 3 name groups and 2 validation frames (named
    as :data:`TRAIN` / :data:`VAL` with ``suffix``), each written by
    ``frame(path, seed)``, which returns its object's polygon; the polygons
    in VIA 2 files in ``src``, imported into ``out``."""
    for split, names, seed in (('train', TRAIN, 0), ('val', VAL, 50)):
        names = [n.replace('.jpg', suffix) for n in names]
        (src / f'{split}.json').write_text(json.dumps(
            _via(src, names, seed, frame)))
    result = import_dataset('via', str(src / 'train.json'), str(out),
                            str(src), val=str(src / 'val.json'),
                            classes=['drop'])
    assert result.written, result.problem
    return out


@pytest.fixture(scope='module')
def det_set(tmp_path_factory):
    """:func:`via_set` of JPEG frames."""
    return via_set(tmp_path_factory.mktemp('via'),
                   tmp_path_factory.mktemp('det') / 'droplets_tiny')


@pytest.fixture(scope='module')
def seg_set(tmp_path_factory):
    src = tmp_path_factory.mktemp('masks')
    for i, name in enumerate(f'scan{g}_{i}' for g in range(4)
                             for i in range(2)):
        _frame(src / f'{name}.png', i)
        label = np.zeros((64, 96), np.uint8)
        label[10:40, 20:60] = 1 + i % 2
        (src / 'labels').mkdir(exist_ok=True)
        Image.fromarray(label).save(src / 'labels' / f'{name}.png')
    out = tmp_path_factory.mktemp('seg') / 'scans'
    result = import_dataset('masks', str(src / 'labels'), str(out),
                            str(src), classes=['floor', 'ball', 'box'],
                            val_fraction=0.25, group_by_prefix=True)
    assert result.written, result.problem
    return out


@pytest.fixture(scope='module')
def cls_set(tmp_path_factory):
    src = tmp_path_factory.mktemp('folders')
    for c, name in enumerate(('ant', 'bee')):
        (src / name).mkdir()
        for i in range(5):
            _frame(src / name / f'{name}{i}.jpg', 10 * c + i)
    out = tmp_path_factory.mktemp('cls') / 'insects'
    result = import_dataset('folders', str(src), str(out), val_fraction=0.3)
    assert result.written, result.problem
    return out


@pytest.fixture(scope='module')
def init_ckpt(tmp_path_factory):
    """An atto backbone in our layout (``backbone.*`` keys)."""
    from mmconvnextv2.models.backbones.convnext_v2 import ConvNeXtV2
    path = tmp_path_factory.mktemp('init') / 'atto_init.pth'
    state = {f'backbone.{k}': v for k, v in
             ConvNeXtV2(arch='atto').state_dict().items()}
    torch.save(dict(state_dict=state), path)
    return str(path)


def _plan(root, work, **kwargs):
    return qd.plan_data_job(str(root), str(work), check_data=False, **kwargs)


def test_det_plan_writes_configs_lists_and_three_starts(det_set, init_ckpt,
                                                        tmp_path):
    plan = _plan(det_set, tmp_path / 'w', init=init_ckpt,
                 lrs=dict(random=1e-3, fcmae=None), seeds=[0, 1])
    name = 'mask-rcnn_convnext-v2-atto_fpn_droplets-tiny.py'
    assert plan.written.config == str(tmp_path / 'w' / 'configs' / name)
    for path in (plan.written.config, plan.written.fcmae_config):
        assert osp.isfile(path)
    with open(plan.written.image_list) as f:
        assert f.read().split() == sorted(TRAIN)
    assert plan.pretrain_images == dict(train=6, unlabelled=0, total=6)
    assert [s.name for s in plan.starts] == ['fcmae', 'random', 'init']
    assert [s.budget for s in plan.starts] == [plan.budget, 0, 0]
    init = plan.start('init')
    assert init.init == init_ckpt and init.options == [
        'model.backbone.init_cfg.type=Pretrained',
        f'model.backbone.init_cfg.checkpoint={init_ckpt}']  # no prefix
    assert plan.start('random').lr == 1e-3 and plan.start('fcmae').lr is None
    # the sweep: the two starts without a rate, 3 rates around the config's
    assert plan.base_lr == 8e-4 and plan.grid == [4e-4, 8e-4, 1.6e-3]
    sweep = qd.sweep_tasks(plan)
    assert [t.name for t in sweep] == [
        f'sweep/{s}_lr{lr:g}' for s in ('fcmae', 'init') for lr in plan.grid]
    assert {tuple(t.budgets) for t in sweep[:3]} == {(plan.budget,)}
    assert all(f'train_cfg.max_iters={plan.sweep_iters}' in t.options
               and plan.sweep.options[0] in t.options for t in sweep)
    assert all(init.options[1] in t.options for t in sweep[3:])
    main = qd.main_tasks(plan, dict(fcmae=1e-4, random=1e-3, init=2e-4))
    assert [(t.name, t.budgets) for t in main] == [
        ('fcmae_lr0.0001', [plan.budget]), ('random_lr0.001', [0]),
        ('init_lr0.0002', [0])]
    assert 'optim_wrapper.optimizer.lr=0.0002' in main[2].options
    assert 'train_cfg.val_begin=1000000' in main[0].options
    assert 'default_hooks.visualization.score_thr=0.5' in main[0].options
    assert not any('sweep' in o for t in main for o in t.options)
    assert plan.seeds == [0, 1] and plan.seed == 0
    assert qd.run_dir(plan, 'init', 2e-4, 1) == str(
        tmp_path / 'w' / 'init_lr0.0002' / 'b0_s1')
    # the same settings again: the finished stages may be reused; others not
    _plan(det_set, tmp_path / 'w', init=init_ckpt, seeds=[0, 1])
    with pytest.raises(DataJobError, match=r'other settings \(config, seed'):
        _plan(det_set, tmp_path / 'w', init=init_ckpt, iters=7, seed=3)


def test_given_rates_skip_the_sweep_and_wrong_starts_are_refused(
        det_set, tmp_path):
    plan = _plan(det_set, tmp_path, lrs=dict(fcmae=1e-3, random=2e-3))
    assert plan.sweep is None and qd.sweep_tasks(plan) == []
    assert [s.name for s in plan.starts] == ['fcmae', 'random']
    with pytest.raises(DataJobError, match='not a start'):
        _plan(det_set, tmp_path, lrs=dict(init=1e-3))  # no --init
    with pytest.raises(DataJobError, match='no such file'):
        _plan(det_set, tmp_path, init=str(tmp_path / 'missing.pth'))
    # bands the pictures cannot draw: refused before anything is written
    with pytest.raises(DataJobError, match=r'bands \[2, 1, 3\] asked, the '
                       r'image has 3 band\(s\)'):
        _plan(det_set, tmp_path / 'b', bands=(2, 1, 3))
    assert not (tmp_path / 'b').exists()
    assert _plan(det_set, tmp_path, lrs=dict(fcmae=1e-3, random=2e-3),
                 bands=[2, 1, 0]).bands == (2, 1, 0)
    assert qd.rate_grid(1e-2, smoke=True) == [1e-2, 2e-2]


def test_sweep_split_never_touches_val(det_set, tmp_path):
    plan = _plan(det_set, tmp_path)
    split, info = plan.sweep, plan.info
    assert sorted(split.train + split.val) == sorted(TRAIN)
    assert split.train and split.val and split.grouped
    # a name group on one side only
    assert not {name_prefix(n) for n in split.train} & \
        {name_prefix(n) for n in split.val}
    for part in ('train', 'val'):
        with open(split.files[part]) as f:
            coco = json.load(f)
        names = {img['file_name'] for img in coco['images']}
        assert names == set(getattr(split, part))
        ids = {img['id'] for img in coco['images']}
        assert coco['annotations'] and \
            all(a['image_id'] in ids for a in coco['annotations'])
    assert not image_paths(info, 'train', split.train + split.val) & \
        image_paths(info, 'val')
    assert not any('annotations/val' in o for o in split.options)
    assert {o.split('=')[0] for o in split.options} >= {
        'test_dataloader.dataset.ann_file', 'test_evaluator.ann_file',
        'test_dataloader.dataset.data_prefix.img'}
    with pytest.raises(DataJobError, match='validation image'):
        check_apart(image_paths(info, 'val'), info, 'the sweep')


def test_unlabelled_frames_join_the_pretraining_but_no_val_copy(
        det_set, tmp_path):
    extra = tmp_path / 'unlabelled'
    extra.mkdir()
    _frame(extra / 'more_001.jpg', 90)
    _frame(extra / 'more_002.jpg', 91)
    shutil.copy(det_set / 'images' / TRAIN[0], extra / 'again.jpg')
    plan = _plan(det_set, tmp_path / 'w', unlabelled=str(extra))
    with open(plan.written.image_list) as f:
        lines = f.read().split()
    assert lines[:6] == sorted(TRAIN)  # relative to the image folder
    assert sorted(lines[6:]) == sorted(str(extra / n) for n in (
        'again.jpg', 'more_001.jpg', 'more_002.jpg'))
    assert plan.pretrain_images == dict(train=6, unlabelled=3, total=9)
    val = read_dataset_info(str(det_set)).paths['val']['img']
    shutil.copy(det_set / val / VAL[1], extra / 'renamed.jpg')
    with pytest.raises(DataJobError, match='a copy of the validation image'):
        _plan(det_set, tmp_path / 'w', unlabelled=str(extra))


@pytest.mark.parametrize('kind', ['seg', 'cls'])
def test_seg_and_cls_build_their_run_plan(kind, seg_set, cls_set, init_ckpt,
                                          tmp_path):
    root = {'seg': seg_set, 'cls': cls_set}[kind]
    plan = _plan(root, tmp_path, init=init_ckpt)
    assert plan.task == kind and osp.isfile(plan.written.config)
    assert osp.basename(plan.written.config).startswith(
        'upernet_' if kind == 'seg' else 'convnext-v2-atto_')
    train, val = plan.sweep.train, plan.sweep.val
    assert sorted(train + val) == split_images(plan.info, 'train')
    with open(plan.sweep.files['val']) as f:
        lines = f.read().splitlines()
    if kind == 'seg':  # image stems, mmseg's ann_file
        assert lines == [osp.splitext(n)[0] for n in val]
        assert 'val_dataloader.dataset.img_suffix=.png' in plan.sweep.options
    else:  # image and label, by dataset.json's class order
        assert [line.split()[0] for line in lines] == val
        assert all(line.split()[1] == str(['ant', 'bee'].index(
            line.split('/')[0])) for line in lines)
    assert len(qd.sweep_tasks(plan)) == 3 * len(plan.grid)
    main = qd.main_tasks(plan, dict(fcmae=1e-3, random=1e-3, init=1e-3))
    assert [t.name for t in main] == ['fcmae_lr0.001', 'random_lr0.001',
                                      'init_lr0.001']
    assert not any('visualization' in o for t in main for o in t.options)


def _run_dir(folder, losses):
    """A run's work dir with a logged loss curve."""
    stamp = folder / '20250101_000000'
    (stamp / 'vis_data').mkdir(parents=True)
    (stamp / 'vis_data' / 'scalars.json').write_text(''.join(
        json.dumps(dict(iter=10 * (i + 1), loss=v)) + '\n'
        for i, v in enumerate(losses)))
    return str(folder)


def test_collapse_flag_from_a_fake_log_and_metrics(tmp_path):
    falling, rising = [2.0, 1.8, 1.5, 1.3, 1.2, 1.21], [1.0, 1.1, 1.3, 1.4]
    assert loss_change(_run_dir(tmp_path / 'a', falling)) == \
        pytest.approx((2.0, 1.21))
    assert loss_change(_run_dir(tmp_path / 'b', [1.0])) is None

    def run(name, losses, bbox, seed=0):
        return dict(kind='det', start=name, seed=seed,
                    metrics={'coco/bbox_mAP': bbox, 'coco/segm_mAP': bbox},
                    dir=_run_dir(tmp_path / f'{name}{seed}', losses))

    runs = [run('fcmae', falling, 0.227), run('fcmae', falling, 0.001, 1),
            run('random', falling, 0.254), run('random', rising, 0.001, 1),
            run('init', falling, 0.024)]
    collapsed = mark_collapses(runs)
    assert [(r['start'], r['seed']) for r in collapsed] == [('fcmae', 1),
                                                            ('init', 0)]
    assert runs[1]['collapse_reason'] == (
        'bbox mAP 0.0010 < 0.0254, 10% of the best run\'s 0.2540, while '
        'its training loss fell 2.000 -> 1.210')
    assert not runs[3]['collapsed']  # its loss rose: it did not train
    # nor did a run whose loss fell by less than a tenth (a smoke run's)
    assert collapse_reason('coco/bbox_mAP', 0., .25, (5.435, 5.41)) is None
    assert runs[0]['collapse_reason'] == ''
    # the fixed floor where the best run is poor too
    assert 'the floor' in collapse_reason('mIoU', 1.0, 5.0, (2., 1.))
    assert collapse_reason('mIoU', 3.0, 5.0, (2., 1.)) is None
    assert collapse_reason('mIoU', math.nan, 5.0, (2., 1.)) is None


def test_the_table_gives_mean_std_and_says_collapsed(tmp_path):
    def run(start, seed, bbox, collapsed=''):
        return dict(kind='det', start=start, seed=seed, train_s=10.,
                    test_s=2., collapsed=bool(collapsed),
                    collapse_reason=collapsed,
                    metrics={'coco/bbox_mAP': bbox, 'coco/segm_mAP': bbox})

    why = 'bbox mAP 0.0010 < 0.0254, while its training loss fell'
    runs = [run('fcmae', 0, .24), run('fcmae', 1, .001, why),
            run('fcmae', 2, .22), run('random', 0, .25), run('random', 1, .26),
            run('init', 0, .001, why)]
    results = dict(runs={f'{r["start"]}_s{r["seed"]}': r for r in runs})
    table = write_table(str(tmp_path), results, 'Title', ['a note'])
    lines = table.splitlines()
    assert ('| Mask R-CNN | fcmae | bbox mAP | 0.2300 ± 0.0141 (n=2); 1 '
            'collapsed run(s) left out | 10 | 2 |') in lines
    assert ('| Mask R-CNN | random | segm mAP | 0.2550 ± 0.0071 (n=2) | 10 | '
            '2 |') in lines
    assert f'| Mask R-CNN | init | bbox mAP | collapsed ({why}) | 10 | 2 |' \
        in lines
    assert f'| Mask R-CNN | fcmae | 1 | collapsed ({why}) | 10 | 2 |' in lines
    assert '| Mask R-CNN | fcmae | 2 | bbox mAP 0.2200, segm mAP 0.2200 | ' \
        '10 | 2 |' in lines
    assert lines[-1] == 'a note'
    assert (tmp_path / 'results.md').read_text().startswith('# Title\n\n')


def _vis(run_dir, name, colour, size=(64, 40)):
    path = run_dir / 'test' / '2025' / 'vis' / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', (2 * size[0], size[1]), colour).save(path)


def test_pictures_read_at_a_glance(tmp_path):
    assert _font(15).getlength('FCMAE start') > \
        _font(15).getlength('FCMAEstart') + 2  # a space that shows
    assert tile_scale(128) == 2 and tile_scale(1920) == 0.25
    runs = {}
    for i, label in enumerate(('FCMAE start', 'random start', '--init start')):
        _vis(tmp_path / label.strip('-'), 'a.jpg', (40 * i, 0, 0))
        runs[label] = str(tmp_path / label.strip('-'))
    _vis(tmp_path / 'random start', 'b.jpg', (0, 0, 0))  # not in every run
    out, = compare_pictures(str(tmp_path), [PictureSet(
        'det_results.jpg', runs, caption='drawn above 0.5')])
    img = Image.open(out)
    assert img.width == 4 * 64 * 4  # ground truth + three starts, 4x
    assert img.height > 40 * 4  # one row under the titles and the caption
    # a classifier's drawings are whole (the labels written on them)
    out, = compare_pictures(str(tmp_path), [PictureSet(
        'cls_results.png', runs, ground_truth=False)])
    assert Image.open(out).size == (3 * 128 * 2, 28 + 40 * 2)


def test_the_tool_reads_seeds_and_keeps_data_options_to_data(capsys):
    tool = load_quickstart()
    args = tool.parse_args(['--data', 'x', '--seeds', '0,1', '--lr-init',
                            '1e-3', '--init', 'c.pth', '--bands', '3,2,1'])
    assert args.seeds == [0, 1] and args.lr_init == 1e-3
    assert args.bands == (3, 2, 1)
    with pytest.raises(SystemExit):
        tool.parse_args(['--data', 'x', '--bands', '1,2'])
    assert 'give one band index' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(['--unlabelled', 'frames'])
    assert '--unlabelled: only with --data' in capsys.readouterr().err


def test_data_sweep_hands_the_study_each_swept_start_and_rate(
        det_set, init_ckpt, tmp_path, monkeypatch):
    """What the sweep gives the study it runs (the study itself, the real
    tools with such options, runs in the end-to-end test below): the
    FCMAE config, every rate of each start without a given rate as a task
    of :func:`qd.sweep_tasks`, their budgets, the plan's seed; then each
    start's best rate, ``lr_sweep.md`` and ``lr_sweep.json``."""
    from mmconvnextv2.analysis import quickstart_data_run as qdr
    plan = _plan(det_set, tmp_path / 'w', init=init_ckpt,
                 lrs=dict(random=1e-3), seed=3)
    given = {}

    def study(config, tasks, budgets, seeds, work, pretrain_options, seed,
              jobs, quiet):
        given.update(config=config, tasks=tasks, budgets=budgets,
                     seeds=seeds, work=work, seed=seed)
        # the middle rate scores best for FCMAE, the largest for --init
        score = {0.0008: 0.5, 0.0016: 0.2, 0.0004: 0.1}
        return dict(runs=[dict(task=t.name, budget=b, seed=s, headline=dict(
            m=score[float(t.name.split('_lr')[1])] * (
                1 if 'fcmae' in t.name else -1))) for t in tasks
            for b in t.budgets for s in seeds], wall_s=1.0, pretrain={})

    monkeypatch.setattr(qdr.payoff, 'run_study', study)
    record = qdr.run_sweep(plan, jobs=2, quiet=True)
    assert given['config'] == plan.written.fcmae_config
    assert given['seeds'] == [3] and given['seed'] == 3
    assert given['work'] == plan.work
    assert given['budgets'] == [0, plan.budget]
    assert [t.name for t in given['tasks']] == [
        t.name for t in qd.sweep_tasks(plan)] == [
        f'sweep/{s}_lr{lr:g}' for s in ('fcmae', 'init') for lr in plan.grid]
    for task in given['tasks']:
        lr = task.name.split('_lr')[1]
        assert f'optim_wrapper.optimizer.lr={lr}' in task.options
        assert set(plan.sweep.options) <= set(task.options)
        assert f'train_cfg.max_iters={plan.sweep_iters}' in task.options
    assert record['best'] == dict(fcmae=8e-4, init=4e-4)
    assert record['split']['val'] == plan.sweep.val
    text = (tmp_path / 'w' / 'lr_sweep.md').read_text()
    assert '| det | fcmae | 0.0004: 0.1000' in text
    assert '| det | init | ' in text and '| det | random' not in text
    saved = json.loads((tmp_path / 'w' / 'lr_sweep.json').read_text())
    assert saved['best'] == record['best'] and saved['iters'] == \
        plan.sweep_iters
    rates, source = qdr.choose_rates(plan, record)
    assert rates == dict(fcmae=8e-4, random=1e-3, init=4e-4)
    assert source == dict(fcmae='sweep', random='given', init='sweep')


@pytest.mark.slow
def test_main_job_on_an_imported_set_end_to_end(det_set, init_ckpt,
                                                tmp_path, capsys):
    """Smoke mode (2-iteration runs), every rate given (the sweep's hand-off
    to the study: the stand-in test above; the study through the real
    tools: the main stage here): the three starts, their tests,
    table, pictures, board."""
    work = tmp_path / 'qs'
    results = load_quickstart().main([
        '--data', str(det_set), '--smoke', '--quiet', '--work-dir',
        str(work), '--init', init_ckpt, '--lr-fcmae', '8e-4',
        '--lr-random', '1e-3', '--lr-init', '2e-3'])
    out = capsys.readouterr().out
    budget = results['budget']
    assert budget == 2 and results['iters'] == 2
    assert '[pretrain train] started' in out
    assert '[init_lr0.002/b0_s0 test] done in' in out and 'sweep/' not in out
    assert 'Loads checkpoint' not in out
    # the given rates
    starts = results['starts']
    assert {s['lr_from'] for s in starts.values()} == {'given'}
    assert [starts[s]['lr'] for s in ('fcmae', 'random', 'init')] == [
        8e-4, 1e-3, 2e-3]
    assert not (work / 'sweep').exists() and \
        not (work / 'lr_sweep.md').exists()
    assert starts['init']['init'] == init_ckpt
    assert sorted(results['runs']) == ['fcmae_s0', 'init_s0', 'random_s0']
    for run in results['runs'].values():
        assert math.isfinite(run['metrics']['coco/bbox_mAP'])
        assert isinstance(run['collapsed'], bool)
    saved = json.loads((work / 'results.json').read_text())
    assert saved['summary']['det'].keys() == {'fcmae', 'random', 'init'}
    assert set(saved['times']) == {'configs_s', 'sweep_s', 'pretrain_s',
                                   'finetune_s'}
    table = (work / 'results.md').read_text()
    assert table.count('| Mask R-CNN |') == 6 and 'Times: configs' in table
    # the init start loads the checkpoint as it is; FCMAE its own weights
    log = (work / 'init_lr0.002' / 'b0_s0' / 'tool.log').read_text()
    assert f'init_cfg.checkpoint={init_ckpt}' in log
    assert 'init_cfg.prefix' not in log.splitlines()[0]
    fcmae_lr = starts['fcmae']['lr']
    fcmae_log = (work / f'fcmae_lr{fcmae_lr:g}' / f'b{budget}_s0' /
                 'tool.log').read_text()
    assert results['fcmae_checkpoint'] in fcmae_log
    assert str(work / 'sweep') not in fcmae_log
    for name in ('fcmae_reconstruction.png', 'loss_curves.png',
                 'det_results.jpg'):
        assert (work / name).is_file(), name
    # ground truth | FCMAE | random | --init, 96 px frames magnified 2x
    assert Image.open(work / 'det_results.jpg').width == 4 * 96 * 2
