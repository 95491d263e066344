"""The config writer (tools/misc/dataset_config.py): det, seg and cls folders
in the importer's layout, written here; the written configs load, say the
data's classes, paths, scale and mean/std, and train 2 iterations; so does
the FCMAE config beside them, on the training images only."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import tifffile
from mmengine.config import Config

from mmconvnextv2.datasets.config_text import Code, source
from mmconvnextv2.datasets.config_writer import companion, write_configs
from mmconvnextv2.datasets.dataset_info import DatasetInfoError

TOOL = 'tools/misc/dataset_config.py'
SIZE = (96, 64)  # (width, height) of every image
MEAN, STD = [110.0, 120.0, 130.0], [50.0, 55.0, 60.0]


def _image(path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), img)


def _bands(path, seed: int) -> None:
    """A float32 4-band TIFF (written under the .jpg / .png names asked
    for with .tif instead)."""
    rng = np.random.default_rng(seed)
    img = rng.normal(size=(SIZE[1], SIZE[0], 4)).astype(np.float32)
    tifffile.imwrite(str(path), img, photometric='minisblack',
                     planarconfig='contig')


#: What each image kind's dataset.json says (4-band: as the importer does).
KINDS = {
    'rgb': (_image, '', dict(channels=3, dtype='uint8', mean=MEAN, std=STD)),
    'bands': (_bands, '.tif', dict(channels=4, dtype='float32',
                                   mean=[0.1, -0.2, 0.0, 0.3],
                                   std=[1.0, 0.9, 1.1, 1.2])),
}
_KIND = {'current': 'rgb'}


def _write_image(path, seed: int) -> None:
    write, suffix, _ = KINDS[_KIND['current']]
    write(path.with_suffix(suffix) if suffix else path, seed)


def _name(name: str) -> str:
    suffix = KINDS[_KIND['current']][1]
    return osp.splitext(name)[0] + suffix if suffix else name


def _info(root, task, classes, paths, n_train, n_val, **extra) -> None:
    info = dict(task=task, classes=classes,
                splits=dict(train=n_train, val=n_val),
                image_sizes=dict(min=list(SIZE), median=list(SIZE),
                                 max=list(SIZE)),
                paths=paths, source='test', **KINDS[_KIND['current']][2])
    info.update(extra)
    (root / 'dataset.json').write_text(json.dumps(info))


def _coco(names, first_id: int) -> dict:
    images, anns = [], []
    for i, name in enumerate(names):
        images.append(dict(id=first_id + i, file_name=name, width=SIZE[0],
                           height=SIZE[1]))
        x, y = 10 + 5 * i, 8
        anns.append(dict(id=first_id + i, image_id=first_id + i,
                         category_id=1 + i % 2, bbox=[x, y, 40, 30],
                         area=1200, iscrowd=0, segmentation=[[
                             x, y, x + 40, y, x + 40, y + 30, x, y + 30]]))
    return dict(images=images, annotations=anns,
                categories=[dict(id=1, name='cat'), dict(id=2, name='dog')])


def make_det(root) -> None:
    (root / 'images').mkdir(parents=True)
    (root / 'annotations').mkdir()
    names = {'train': [_name(f't{i}.jpg') for i in range(4)],
             'val': [_name('v0.jpg'), _name('v1.jpg')]}
    for split, files in names.items():
        for i, name in enumerate(files):
            _write_image(root / 'images' / name, 10 * (split == 'val') + i)
        coco = _coco(files, 1 if split == 'train' else 100)
        (root / 'annotations' / f'{split}.json').write_text(json.dumps(coco))
    _info(root, 'det', ['cat', 'dog'], {
        s: dict(ann_file=f'annotations/{s}.json', img='images/')
        for s in names}, 4, 2)


def make_seg(root) -> None:
    for split, count in (('train', 3), ('val', 2)):
        (root / 'images' / split).mkdir(parents=True)
        (root / 'annotations' / split).mkdir(parents=True)
        for i in range(count):
            _write_image(root / 'images' / split / f'f{i}.png',
                         10 * (split == 'val') + i)
            label = np.zeros((SIZE[1], SIZE[0]), np.uint8)
            label[10:40, 20:60] = 1 + i % 2
            label[0, :] = 255
            cv2.imwrite(str(root / 'annotations' / split / f'f{i}.png'),
                        label)
    _info(root, 'seg', ['floor', 'ball', 'box'], {
        s: dict(ann_file=f'annotations/{s}', img=f'images/{s}')
        for s in ('train', 'val')}, 3, 2)


def make_cls(root) -> None:
    for s, (split, count) in enumerate((('train', 2), ('val', 1))):
        for c, name in enumerate(('ant', 'bee')):
            (root / split / name).mkdir(parents=True)
            for i in range(count):
                _image(root / split / name / f'{i}.jpg', 10 * s + 3 * c + i)
    _info(root, 'cls', ['ant', 'bee'], {
        s: dict(ann_file='', img=s) for s in ('train', 'val')}, 4, 2)


MAKERS = {'det': make_det, 'seg': make_seg, 'cls': make_cls}


@pytest.fixture(scope='module')
def folders(tmp_path_factory):
    """One data folder per task."""
    found = {}
    for task, make in MAKERS.items():
        root = tmp_path_factory.mktemp(task)
        make(root)
        found[task] = root
    return found


def _write(folder, tmp_path, task, **kwargs):
    return write_configs(str(folder), str(tmp_path / f'{task}.py'),
                         task=task, **kwargs)


def test_source_wraps_and_references():
    text = source(dict(a=Code('x'), b=[1, 2.5, 'c'], t=(1,)))
    assert text == "dict(a=x, b=[1, 2.5, 'c'], t=(1,))"
    # the statistics of small-valued bands and of 16-bit frames, as they are
    assert source([0.000152295, 1.5e-07, 10723.002, 0.1 + 0.2]) == \
        '[0.000152295, 1.5e-07, 10723.002, 0.3]'
    long = source(dict(key=list(range(40))), 0, 10)
    assert long.startswith('dict(\n    key=[\n        0,')
    assert eval(long) == dict(key=list(range(40)))  # noqa: S307


def test_det_config(folders, tmp_path):
    written = _write(folders['det'], tmp_path, 'det')
    cfg = Config.fromfile(written.config)
    root = osp.join(str(folders['det']), '')
    roi = cfg.model.roi_head
    assert roi.bbox_head.num_classes == roi.mask_head.num_classes == 2
    assert cfg.model.data_preprocessor.mean == MEAN
    assert cfg.model.data_preprocessor.std == STD
    for loader, split in (('train', 'train'), ('val', 'val'),
                          ('test', 'val')):
        dataset = cfg[f'{loader}_dataloader'].dataset
        assert dataset.data_root == root
        assert dataset.ann_file == f'annotations/{split}.json'
        assert dataset.data_prefix.img == 'images/'
        assert dataset.metainfo.classes == ('cat', 'dog')
        assert len(dataset.metainfo.palette) == 2
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert evaluator.ann_file == root + 'annotations/val.json'
        assert evaluator.metric == ['bbox', 'segm']
    resize = cfg.test_dataloader.dataset.pipeline[1]
    assert resize.scale == (96, 96) and resize.keep_ratio  # median long side
    # 12 epochs of 4 images at batch 2 = 24 < 100: the floor
    assert cfg.train_cfg.max_iters == 100 and cfg.train_cfg.val_interval == 25
    assert cfg.default_hooks.checkpoint.interval == 25
    assert cfg.param_scheduler[0].end == 10
    assert cfg.train_dataloader.batch_size == 2
    with open(written.image_list) as f:
        assert f.read().split() == [f't{i}.jpg' for i in range(4)]
    fcmae = Config.fromfile(written.fcmae_config)
    dataset = fcmae.train_dataloader.dataset
    assert dataset.ann_file == written.image_list
    assert dataset.data_prefix == 'images/' and not dataset.with_label
    assert fcmae.data_preprocessor.mean == MEAN
    assert fcmae.train_dataloader.batch_size == 4  # all 4 training images
    assert fcmae.train_dataloader.dataset.pipeline[1].scale == 64


def test_sizes_from_large_frames(tmp_path):
    """1920x1080 frames, 61 training images: 512 px long side (the CPU
    cap), a 288-px square fits the 512x288 frame; 12 epochs at batch 2."""
    from mmconvnextv2.datasets.dataset_info import (make_plan,
                                                    read_dataset_info)
    make_det(tmp_path)
    info = json.loads((tmp_path / 'dataset.json').read_text())
    info.update(image_sizes=dict(median=[1920, 1080]),
                splits=dict(train=61, val=11))
    (tmp_path / 'dataset.json').write_text(json.dumps(info))
    plan = make_plan(read_dataset_info(str(tmp_path)))
    assert (plan.image_size, plan.crop, plan.batch_size) == (512, 288, 2)
    assert plan.schedule.iters == 12 * 31 and plan.schedule.interval == 93
    assert plan.schedule.warmup == 37
    # a 288-px crop at the 512-px scale covers 56 % of a frame
    assert plan.pretrain_crop_range == (0.281, 1.0)
    plan = make_plan(read_dataset_info(str(tmp_path)), image_size=1024,
                     iters=5000, batch_size=4)
    assert (plan.image_size, plan.crop, plan.batch_size) == (1024, 576, 4)
    assert plan.schedule.interval == 1250 and plan.schedule.warmup == 500
    with pytest.raises(DatasetInfoError, match='at least 2'):
        make_plan(read_dataset_info(str(tmp_path)), iters=1)
    with pytest.raises(DatasetInfoError, match="arch 'tera'"):
        make_plan(read_dataset_info(str(tmp_path)), arch='tera')


def test_det_boxes_only(tmp_path):
    make_det(tmp_path / 'data')
    for split in ('train', 'val'):
        path = tmp_path / 'data' / 'annotations' / f'{split}.json'
        coco = json.loads(path.read_text())
        for ann in coco['annotations']:
            del ann['segmentation']
        path.write_text(json.dumps(coco))
    cfg = Config.fromfile(_write(tmp_path / 'data', tmp_path, 'det').config)
    assert cfg.model.roi_head.mask_head is None
    assert cfg.val_evaluator.metric == ['bbox']
    assert not cfg.train_dataloader.dataset.pipeline[1].with_mask


def test_seg_config(folders, tmp_path):
    written = _write(folders['seg'], tmp_path, 'seg', image_size=192,
                     iters=40, batch_size=3)
    cfg = Config.fromfile(written.config)
    assert cfg.model.decode_head.num_classes == 3
    assert cfg.model.auxiliary_head.num_classes == 3
    assert cfg.model.data_preprocessor.mean == MEAN
    for loader, split in (('train', 'train'), ('val', 'val'),
                          ('test', 'val')):
        dataset = cfg[f'{loader}_dataloader'].dataset
        assert dataset.type == 'BaseSegDataset'
        assert dataset.data_prefix == dict(img_path=f'images/{split}',
                                           seg_map_path=f'annotations/{split}')
        assert dataset.img_suffix == '.png' and not dataset.reduce_zero_label
        assert dataset.metainfo.classes == ('floor', 'ball', 'box')
    # 192 px long side -> 192x128 frames: a 128-px square crop fits
    assert cfg.crop_size == (128, 128) and cfg.image_size == 192
    assert cfg.model.data_preprocessor.size == (128, 128)
    assert cfg.train_cfg.max_iters == 40 and cfg.train_cfg.val_interval == 10
    assert cfg.param_scheduler[0].end == 4
    assert cfg.train_dataloader.batch_size == 3
    with open(written.image_list) as f:
        assert f.read().split() == ['f0.png', 'f1.png', 'f2.png']
    fcmae = Config.fromfile(written.fcmae_config)
    assert fcmae.train_dataloader.dataset.data_prefix == 'images/train'
    assert fcmae.crop_size == 128


def test_cls_config(folders, tmp_path):
    written = _write(folders['cls'], tmp_path, 'cls')
    cfg = Config.fromfile(written.config)
    assert cfg.model.head.num_classes == 2
    assert cfg.model.head.in_channels == 320
    assert cfg.model.backbone.init_cfg is None
    assert cfg.data_preprocessor.mean == MEAN
    assert cfg.data_preprocessor.num_classes == 2
    for split in ('train', 'val'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.type == 'CustomDataset' and dataset.data_prefix == split
        assert dataset.ann_file == written.label_lists[split]
        assert dataset.data_root == osp.join(str(folders['cls']), '')
    assert cfg.val_dataloader.dataset.metainfo.classes == ('ant', 'bee')
    assert cfg.val_evaluator.topk == (1,)  # 2 classes: no top-5
    assert cfg.image_size == 64  # the median short side
    assert cfg.custom_hooks == []
    with open(written.image_list) as f:
        assert f.read().split() == ['ant/0.jpg', 'ant/1.jpg', 'bee/0.jpg',
                                    'bee/1.jpg']


@pytest.mark.parametrize('change, key', [
    (None, 'dataset.json: cannot be read'),
    ('{not json', 'not valid JSON'),
    (dict(task='seg'), "key 'task' is 'seg', but the task asked for is "
     "'det'"),
    (dict(classes=[]), "key 'classes'"),
    (dict(mean=[1, 2]), "key 'mean'"),
    (dict(std=[1, 0, 1]), "key 'std'"),
    (dict(splits=dict(train=4)), "key 'splits.val' is missing"),
    (dict(paths=dict(train=dict(img='images/'))),
     "key 'paths.train.ann_file' is missing"),
])
def test_bad_dataset_json(tmp_path, change, key):
    make_det(tmp_path / 'data')
    info = tmp_path / 'data' / 'dataset.json'
    if change is None:
        info.unlink()
    elif isinstance(change, str):
        info.write_text(change)
    else:
        info.write_text(json.dumps(dict(json.loads(info.read_text()),
                                        **change)))
    with pytest.raises(DatasetInfoError) as err:
        _write(tmp_path / 'data', tmp_path, 'det')
    message = str(err.value)
    assert key in message and str(info) in message and '\n' not in message
    assert not (tmp_path / 'det.py').exists()


def test_cls_labels_follow_the_classes(tmp_path):
    """Labels are the classes' order of dataset.json, not the folders'
    sorted order, and a split may lack a class; a folder that is not a
    class is an error."""
    make_cls(tmp_path / 'data')
    info = tmp_path / 'data' / 'dataset.json'
    info.write_text(json.dumps(dict(json.loads(info.read_text()),
                                    classes=['bee', 'ant'])))
    (tmp_path / 'data' / 'val' / 'bee' / '0.jpg').unlink()
    (tmp_path / 'data' / 'val' / 'bee').rmdir()
    written = _write(tmp_path / 'data', tmp_path, 'cls')
    with open(written.label_lists['train']) as f:
        assert f.read().splitlines() == ['bee/0.jpg 0', 'bee/1.jpg 0',
                                         'ant/0.jpg 1', 'ant/1.jpg 1']
    with open(written.label_lists['val']) as f:
        assert f.read().splitlines() == ['ant/0.jpg 1']
    (tmp_path / 'data' / 'val' / 'wasp').mkdir()
    with pytest.raises(DatasetInfoError, match=r"\['wasp'\] are not the "
                       'classes'):
        _write(tmp_path / 'data', tmp_path, 'cls')


def test_tool_writes_checks_and_prints(folders, tmp_path, capsys):
    from mmconvnextv2.analysis.runner import tool_path
    import runpy
    out = tmp_path / 'seg_cfg.py'
    argv = [str(folders['seg']), '--task', 'seg', '--out', str(out)]
    module = runpy.run_path(tool_path(TOOL))
    module['main'](argv)
    printed = capsys.readouterr().out
    assert printed.startswith('# UperNet with ConvNeXt V2-atto')
    assert 'pre-flight: no problem found' in printed
    assert osp.isfile(companion(str(out), 'fcmae.py'))
    with pytest.raises(SystemExit, match="key 'task' is 'seg'"):
        module['main']([str(folders['seg']), '--task', 'cls', '--out',
                        str(tmp_path / 'x.py')])
    # a label value outside the classes: the pre-flight names it, exit 1
    bad = folders['seg'] / 'annotations' / 'val' / 'f0.png'
    label = cv2.imread(str(bad), cv2.IMREAD_UNCHANGED)
    try:
        cv2.imwrite(str(bad), np.full_like(label, 7))
        with pytest.raises(SystemExit, match='1 problem'):
            module['main'](argv)
        assert 'label values [7]' in capsys.readouterr().err
    finally:
        cv2.imwrite(str(bad), label)


def _train(config: str, work_dir, loaders=('train', 'val')) -> dict:
    """Train ``config`` (written with 2 iterations) as tools/train.py does,
    validating once at the end; the logged scalars."""
    from mmconvnextv2.runtime import build_runner, prepare_config
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    for name in loaders:  # no worker processes: 2 iterations on 2 cores
        cfg[f'{name}_dataloader'].update(num_workers=0,
                                         persistent_workers=False)
    if 'val' in loaders:
        cfg.train_cfg.val_interval = 2
    cfg.default_hooks.checkpoint.interval = 2
    prepare_config(cfg)
    runner = build_runner(cfg)
    runner.train()
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    return {k: v.current() for k, v in runner.message_hub.log_scalars.items()}


@pytest.mark.slow
@pytest.mark.parametrize('task, metric', [
    ('det', 'val/coco/bbox_mAP'), ('seg', 'val/mIoU'),
    ('cls', 'val/accuracy/top1')])
def test_written_config_trains(folders, tmp_path, task, metric):
    written = _write(folders[task], tmp_path, task, iters=2,
                     pretrain_iters=2)
    scalars = _train(written.config, tmp_path / 'work')
    assert np.isfinite(scalars['train/loss']) and metric in scalars
    if task == 'det':  # the FCMAE config beside it, on the training images
        scalars = _train(written.fcmae_config, tmp_path / 'fcmae',
                         loaders=('train',))
        assert np.isfinite(scalars['train/loss'])


def test_seg_label_folder_from_seg_map(tmp_path):
    """``paths.<split>.seg_map`` names the label maps' folder when given
    (the importer writes ``ann_file: ''`` beside it)."""
    make_seg(tmp_path / 'data')
    info = tmp_path / 'data' / 'dataset.json'
    data = json.loads(info.read_text())
    for split in ('train', 'val'):
        data['paths'][split] = dict(ann_file='', img=f'images/{split}',
                                    seg_map=f'annotations/{split}')
    info.write_text(json.dumps(data))
    cfg = Config.fromfile(_write(tmp_path / 'data', tmp_path, 'seg').config)
    assert cfg.val_dataloader.dataset.data_prefix.seg_map_path == \
        'annotations/val'
    assert not cfg.val_dataloader.dataset.get('ann_file')


def test_other_arch_widths(folders, tmp_path):
    """Widths follow the arch: the heads' inputs, the lr decay's layer ids
    of a 27-block stage 3; the FCMAE config states the arch only and its
    model builds (the decoder's width comes from the backbone)."""
    from mmconvnextv2.utils import build_model
    written = _write(folders['cls'], tmp_path, 'cls', arch='femto')
    cfg = Config.fromfile(written.config)
    assert cfg.model.backbone.arch == 'femto'
    assert cfg.model.head.in_channels == 384
    fcmae = Config.fromfile(written.fcmae_config)
    assert fcmae.model.backbone.arch == 'femto'
    assert 'in_channels' not in open(written.fcmae_config).read()
    assert build_model(fcmae, init=False).neck.in_channels == 384
    det = Config.fromfile(_write(folders['det'], tmp_path, 'det',
                                 arch='base').config)
    assert det.model.neck.in_channels == [128, 256, 512, 1024]
    assert det.optim_wrapper.paramwise_cfg.num_layers == 12
    seg = Config.fromfile(_write(folders['seg'], tmp_path, 'seg',
                                 arch='tiny').config)
    assert seg.model.decode_head.in_channels == [96, 192, 384, 768]
    assert seg.model.auxiliary_head.in_channels == 384
    assert seg.optim_wrapper.paramwise_cfg.num_layers == 6


@pytest.fixture
def band_images():
    """The makers write 4-band float32 TIFFs (and say so in
    dataset.json)."""
    _KIND['current'] = 'bands'
    yield
    _KIND['current'] = 'rgb'


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_written_config_for_band_images(band_images, tmp_path, task):
    """A det / seg folder of 4-band float32 TIFFs: the written config and
    its FCMAE config take 4 channels (LoadAnyImageFromFile, the bands' mean
    and std, no RGB-only transform) and pass the pre-flight."""
    from mmconvnextv2.datasets.config_writer import preflight
    MAKERS[task](tmp_path / 'data')
    written = _write(tmp_path / 'data', tmp_path, task, iters=2,
                     pretrain_iters=2)
    _, _, stats = KINDS['bands']
    for path in (written.config, written.fcmae_config):
        assert preflight(path) == []
        cfg = Config.fromfile(path)
        assert cfg.model.backbone.in_channels == 4
        pre = cfg.model.get('data_preprocessor') or cfg.data_preprocessor
        assert pre.mean == stats['mean'] and pre.std == stats['std']
        assert not pre.get('bgr_to_rgb') and not pre.get('to_rgb')
        for loader in ('train', 'val', 'test'):
            if f'{loader}_dataloader' not in cfg or path != written.config \
                    and loader != 'train':
                continue
            types = [t['type'] for t in
                     cfg[f'{loader}_dataloader'].dataset.pipeline]
            assert types[0] == 'LoadAnyImageFromFile'
            assert 'PhotoMetricDistortion' not in types
    expected = {'det': 'AnyChannelDetDataPreprocessor',
                'seg': 'SegDataPreProcessor'}[task]
    assert Config.fromfile(written.config).model.data_preprocessor.type == \
        expected
    assert Config.fromfile(written.fcmae_config).data_preprocessor.type == \
        'AnyChannelSelfSupDataPreprocessor'


@pytest.mark.slow
@pytest.mark.parametrize('task', ['det', 'seg'])
def test_written_config_for_band_images_trains(band_images, tmp_path, task):
    """... and the configs train 2 iterations (the FCMAE one beside det)."""
    MAKERS[task](tmp_path / 'data')
    written = _write(tmp_path / 'data', tmp_path, task, iters=2,
                     pretrain_iters=2)
    scalars = _train(written.config, tmp_path / 'work')
    assert np.isfinite(scalars['train/loss'])
    if task == 'det':
        scalars = _train(written.fcmae_config, tmp_path / 'fcmae',
                         loaders=('train',))
        assert np.isfinite(scalars['train/loss'])
