"""Synthetic COCO / ADE20K writers: determinism, atomicity, and that the real
mmdet ``CocoDataset`` and mmseg ``ADE20KDataset`` read what they write."""
import filecmp
import json
import os
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmconvnextv2.datasets import (ADE_LABEL_IDS, ADE_METAINFO, COCO_METAINFO,
                                   IGNORE_LABEL, SHAPES, make_scene,
                                   make_synthetic_data)
from mmconvnextv2.datasets import synthetic

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIZE = 96


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp('synthetic')
    make_synthetic_data(str(out), seed=0, num_train=6, num_val=3, size=SIZE)
    return out


def _files(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def _same_tree(a, b):
    files = _files(a)
    assert files == _files(b)
    _, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    return not mismatch and not errors


def test_layout(data_dir):
    files = _files(data_dir)
    for name in ['coco/annotations/instances_train.json',
                 'coco/annotations/instances_val.json',
                 'coco/train/000005.jpg',
                 'coco/val/000002.jpg',
                 'ade/images/training/synthetic_000005.jpg',
                 'ade/annotations/training/synthetic_000005.png',
                 'ade/images/validation/synthetic_000002.jpg',
                 'ade/annotations/validation/synthetic_000002.png']:
        assert name in files
    assert not any('.tmp-' in f or '.old-' in f for f in files)
    assert len([f for f in files if f.endswith('.jpg')]) == 2 * (6 + 3)


def test_deterministic_by_seed(data_dir, tmp_path):
    make_synthetic_data(str(tmp_path / 'same'), seed=0, num_train=6,
                        num_val=3, size=SIZE)
    assert _same_tree(data_dir, tmp_path / 'same')
    make_synthetic_data(str(tmp_path / 'other'), seed=1, num_train=6,
                        num_val=3, size=SIZE, which=['coco'])
    assert not filecmp.cmp(data_dir / 'coco/train/000000.jpg',
                           tmp_path / 'other/coco/train/000000.jpg',
                           shallow=False)


def test_image_depends_on_index_not_count(data_dir, tmp_path):
    make_synthetic_data(str(tmp_path), seed=0, num_train=2, num_val=1,
                        size=SIZE, which=['ade'])
    for name in ['images/training/synthetic_000001.jpg',
                 'annotations/training/synthetic_000001.png',
                 'annotations/validation/synthetic_000000.png']:
        assert filecmp.cmp(data_dir / 'ade' / name, tmp_path / 'ade' / name,
                           shallow=False)


def test_unlabelled_pool_deterministic_and_new_images(data_dir, tmp_path):
    paths = make_synthetic_data(str(tmp_path / 'a'), seed=0, num_train=6,
                                num_val=3, size=SIZE, which=['coco'],
                                num_unlabelled=4)
    pool = paths['unlabelled']
    assert sorted(os.listdir(pool)) == sorted(
        [f'{i:06d}.jpg' for i in range(4)] + [synthetic._MARKER])
    # same seed: the same pool, whatever its size; images by index
    again = make_synthetic_data(str(tmp_path / 'b'), seed=0, num_train=1,
                                num_val=1, size=SIZE, which=['ade'],
                                num_unlabelled=2)['unlabelled']
    assert filecmp.cmp(osp.join(pool, '000001.jpg'),
                       osp.join(again, '000001.jpg'), shallow=False)
    other = make_synthetic_data(str(tmp_path / 'c'), seed=1, num_train=1,
                                num_val=1, size=SIZE, which=['ade'],
                                num_unlabelled=2)['unlabelled']
    assert not filecmp.cmp(osp.join(pool, '000001.jpg'),
                           osp.join(other, '000001.jpg'), shallow=False)
    # no image of the pool is one of the labelled images
    labelled = [np.asarray(Image.open(data_dir / 'coco' / split / f))
                for split in ('train', 'val')
                for f in os.listdir(data_dir / 'coco' / split)]
    for name in os.listdir(pool):
        if name.endswith('.jpg'):
            img = np.asarray(Image.open(osp.join(pool, name)))
            assert not any(np.array_equal(img, x) for x in labelled)
    # a size of 0 writes no pool; a negative one is refused
    assert 'unlabelled' not in make_synthetic_data(
        str(tmp_path / 'd'), num_train=1, num_val=1, size=SIZE, which=['ade'])
    with pytest.raises(ValueError, match='num_unlabelled'):
        make_synthetic_data(str(tmp_path / 'e'), num_unlabelled=-1)


def test_complete_dataset_is_skipped_incomplete_replaced(tmp_path):
    coco = make_synthetic_data(str(tmp_path), num_train=2, num_val=1,
                               size=64, which=['coco'])['coco']
    ann = osp.join(coco, 'annotations/instances_train.json')
    stamp = os.stat(ann).st_mtime_ns
    make_synthetic_data(str(tmp_path), num_train=2, num_val=1, size=64,
                        which=['coco'])
    assert os.stat(ann).st_mtime_ns == stamp  # skipped
    # an interrupted write leaves no marker: the next call redoes it
    os.remove(osp.join(coco, synthetic._MARKER))
    os.remove(ann)
    make_synthetic_data(str(tmp_path), num_train=2, num_val=1, size=64,
                        which=['coco'])
    assert osp.isfile(ann)
    # other parameters replace the dataset
    make_synthetic_data(str(tmp_path), num_train=3, num_val=1, size=64,
                        which=['coco'])
    with open(ann) as f:
        assert len(json.load(f)['images']) == 3
    assert sorted(os.listdir(tmp_path)) == ['coco']  # no temp folders left


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):

    def broken(*args, **kwargs):
        raise RuntimeError('disk full')

    monkeypatch.setattr(synthetic, '_save_jpg', broken)
    with pytest.raises(RuntimeError, match='disk full'):
        make_synthetic_data(str(tmp_path), num_train=2, num_val=1, size=64)
    assert os.listdir(tmp_path) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='size'):
        make_synthetic_data(str(tmp_path), size=16)
    with pytest.raises(ValueError, match='num_train'):
        make_synthetic_data(str(tmp_path), num_train=0)
    with pytest.raises(ValueError, match='pascal'):
        make_synthetic_data(str(tmp_path), which=['pascal'])


def test_scene_structure():
    occluded = 0
    for i in range(20):
        scene = make_scene(np.random.default_rng(i), 128)
        assert scene['img'].shape == (128, 128, 3)
        assert scene['img'].dtype == np.uint8
        assert 1 <= len(scene['instances']) <= 5
        for kind, mask in scene['instances']:
            assert kind in SHAPES and mask.sum() >= 10
            assert not (mask & scene['other']).any()
        masks = [m for _, m in scene['instances']]
        assert not np.any(np.sum(masks, axis=0) > 1)  # visible parts: disjoint
        for (_, visible), full in zip(scene['instances'],
                                      scene['full_masks']):
            assert not (visible & ~full).any()
            assert visible.sum() >= synthetic._MIN_VISIBLE * full.sum()
            occluded += bool(visible.sum() < full.sum())
    assert occluded > 0


def test_coco_json_is_valid(data_dir):
    from pycocotools import mask as mask_utils
    for split, count in (('train', 6), ('val', 3)):
        with open(data_dir / f'coco/annotations/instances_{split}.json') as f:
            coco = json.load(f)
        assert [c['name'] for c in coco['categories']] == list(SHAPES)
        assert len(coco['images']) == count
        ids = [a['id'] for a in coco['annotations']]
        assert len(set(ids)) == len(ids)
        for ann in coco['annotations']:
            assert ann['iscrowd'] == 0 and 1 <= ann['category_id'] <= 4
            x, y, w, h = ann['bbox']
            assert 0 <= x and 0 <= y and w > 0 and h > 0
            assert x + w <= SIZE and y + h <= SIZE
            for poly in ann['segmentation']:
                assert len(poly) >= 6 and len(poly) % 2 == 0
                xs, ys = np.array(poly[0::2]), np.array(poly[1::2])
                assert xs.min() >= x and xs.max() <= x + w + 1e-6
                assert ys.min() >= y and ys.max() <= y + h + 1e-6
            # the polygons rasterise to (nearly) the recorded area
            rles = mask_utils.frPyObjects(ann['segmentation'], SIZE, SIZE)
            area = mask_utils.area(mask_utils.merge(rles))
            assert abs(area - ann['area']) <= 0.35 * ann['area'] + 10


def test_real_coco_dataset_reads_it(data_dir):
    from mmcv.transforms import LoadImageFromFile
    from mmdet.datasets import CocoDataset
    from mmdet.datasets.transforms import LoadAnnotations, PackDetInputs
    pipeline = [
        dict(type=LoadImageFromFile),
        dict(type=LoadAnnotations, with_bbox=True, with_mask=True),
        dict(type=PackDetInputs)
    ]
    dataset = CocoDataset(
        data_root=str(data_dir / 'coco'), metainfo=COCO_METAINFO,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'), pipeline=pipeline)
    assert len(dataset) == 6
    assert dataset.metainfo['classes'] == SHAPES
    sample = dataset[0]
    instances = sample['data_samples'].gt_instances
    assert sample['inputs'].shape == (3, SIZE, SIZE)
    assert len(instances) >= 1
    assert set(instances.labels.tolist()) <= set(range(len(SHAPES)))
    masks = instances.masks.to_ndarray()
    assert masks.shape == (len(instances), SIZE, SIZE) and masks.any(
        axis=(1, 2)).all()


def test_real_ade20k_dataset_reads_it(data_dir):
    from mmcv.transforms import LoadImageFromFile
    from mmseg.datasets import ADE20KDataset
    from mmseg.datasets.transforms import LoadAnnotations, PackSegInputs
    pipeline = [
        dict(type=LoadImageFromFile),
        dict(type=LoadAnnotations, reduce_zero_label=True),
        dict(type=PackSegInputs)
    ]
    dataset = ADE20KDataset(
        data_root=str(data_dir / 'ade'), metainfo=ADE_METAINFO,
        data_prefix=dict(img_path='images/validation',
                         seg_map_path='annotations/validation'),
        pipeline=pipeline)
    assert len(dataset) == 3
    assert dataset.metainfo['classes'] == ADE_METAINFO['classes']
    seen = set()
    for i in range(len(dataset)):
        gt = dataset[i]['data_samples'].gt_sem_seg.data
        seen |= set(gt.unique().tolist())
    # new labels 0..4, 255 for the "other" clutter (label 0 in the PNGs)
    assert seen <= set(range(len(ADE_METAINFO['classes']))) | {255}
    assert {0, 255} <= seen and len(seen) >= 4


def test_ade_label_ids_are_ade20k_ids(data_dir):
    from mmseg.datasets import ADE20KDataset
    ade_classes = ADE20KDataset.METAINFO['classes']
    for name, value in ADE_LABEL_IDS.items():
        assert ade_classes.index(name) + 1 == value
    assert list(ADE_LABEL_IDS) == list(ADE_METAINFO['classes'])
    label = np.array(Image.open(
        data_dir / 'ade/annotations/training/synthetic_000000.png'))
    assert label.dtype == np.uint8
    assert set(np.unique(label)) <= set(ADE_LABEL_IDS.values()) | {
        IGNORE_LABEL}


def test_synthetic_configs_match_metainfo():
    det = Config.fromfile(osp.join(
        REPO, 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'))
    seg = Config.fromfile(osp.join(
        REPO, 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'))
    for cfg, meta in ((det, COCO_METAINFO), (seg, ADE_METAINFO)):
        assert tuple(cfg.metainfo['classes']) == tuple(meta['classes'])
        assert [tuple(c) for c in cfg.metainfo['palette']] == [
            tuple(c) for c in meta['palette']]
        assert cfg.train_dataloader.dataset.metainfo == cfg.metainfo
    assert det.model.roi_head.bbox_head.num_classes == len(SHAPES)
    assert seg.model.decode_head.num_classes == len(ADE_METAINFO['classes'])


def test_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', [
        'make_synthetic_data.py', '--out', str(tmp_path), '--seed', '3',
        '--num-train', '2', '--num-val', '1', '--size', '64', '--only', 'ade'
    ])
    runpy.run_path(osp.join(REPO, 'tools/misc/make_synthetic_data.py'),
                   run_name='__main__')
    assert 'ade: ' in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ['ade']
    assert len(os.listdir(tmp_path / 'ade/images/training')) == 2
