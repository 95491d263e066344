"""Segmentation-mask import: label maps paired with images, re-indexed when
a class is dropped, the mmseg layout (read back by mmseg); the bad records
label maps can hold; the tool end to end once."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from importer_files import (TOOL, assert_bad_records, assert_strict_fails,
                            read_json, write_bytes, write_image,
                            write_label_map)
from PIL import Image

from mmconvnextv2.datasets.importers import (DatasetImportError,
                                             import_dataset)

CLASSES = ['background', 'car', 'road']


def label_map(values, height=32, width=48):
    out = np.zeros((height, width), dtype=np.uint8)
    for i, value in enumerate(values):
        out[i * 4:(i + 1) * 4] = value
    return out


@pytest.fixture(scope='module')
def masks_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('masks'))
    imgs, labels = osp.join(root, 'images'), osp.join(root, 'labels')
    for name in ('m1', 'm2', 'm3', 'm4', 'm5', 'seq/m7'):
        write_image(osp.join(imgs, name + '.jpg'), 48, 32)
    write_label_map(osp.join(labels, 'm1.png'), label_map([0, 1]))
    write_label_map(osp.join(labels, 'm2.png'), label_map([1, 255]))
    write_label_map(osp.join(labels, 'seq/m7.png'), label_map([1]))
    write_label_map(osp.join(labels, 'm3.png'), label_map([0, 7]))
    write_label_map(osp.join(labels, 'm4.png'), label_map([1]), mode='RGB')
    write_label_map(osp.join(labels, 'm5.png'), label_map([1], 20, 20))
    write_label_map(osp.join(labels, 'm6.png'), label_map([1]))
    val_imgs, val_labels = osp.join(root, 'val_images'), osp.join(
        root, 'val_labels')
    write_image(osp.join(val_imgs, 'v1.jpg'), 48, 32)
    write_label_map(osp.join(val_labels, 'v1.png'), label_map([0, 2, 1]))
    return {'root': root, 'imgs': imgs, 'labels': labels,
            'val_imgs': val_imgs, 'val_labels': val_labels}


@pytest.fixture(scope='module')
def imported(masks_set):
    out = osp.join(masks_set['root'], 'out')
    result = import_dataset('masks', masks_set['labels'], out,
                            masks_set['imgs'], val=masks_set['val_labels'],
                            val_images=masks_set['val_imgs'],
                            classes=CLASSES)
    return result, out


def test_every_bad_record_named(imported, masks_set):
    result, _ = imported
    labels = masks_set['labels']
    assert_bad_records(result, 'masks', [
        (osp.join(labels, 'm3.png'), "image 'm3.jpg'",
         'values 7 are no class (0..2, 255 = ignore)'),
        (osp.join(labels, 'm4.png'), "image 'm4.jpg'",
         'a label map of mode RGB'),
        (osp.join(labels, 'm5.png'), "image 'm5.jpg'",
         'the image is 48x32, its annotation says 20x20'),
        (osp.join(labels, 'm6.png'), "label map 'm6.png'", 'no image m6.*'),
        (osp.join(masks_set['val_labels'], 'v1.png'), "class 'road'",
         'seen only in val')])


def test_layout_and_reindexed_label_maps(imported):
    result, out = imported
    info = read_json(osp.join(out, 'dataset.json'))
    assert info['task'] == 'seg' and info['classes'] == ['background', 'car']
    assert info['splits'] == {'train': 3, 'val': 1}
    assert info['paths']['train'] == {'ann_file': '', 'img': 'images/train',
                                      'seg_map': 'annotations/train'}
    assert info['img_suffix'] == '.jpg' and info['ignore_index'] == 255
    assert osp.isfile(osp.join(out, 'images', 'train', 'seq', 'm7.jpg'))
    val_map = np.asarray(Image.open(osp.join(out, 'annotations', 'val',
                                             'v1.png')))
    assert val_map.dtype == np.uint8
    assert np.unique(val_map).tolist() == [0, 1, 255]  # road -> ignore
    assert (val_map[4:8] == 255).all() and (val_map[8:12] == 1).all()
    m2 = np.asarray(Image.open(osp.join(out, 'annotations', 'train',
                                        'm2.png')))
    assert np.unique(m2).tolist() == [0, 1, 255]


def test_mmseg_reads_the_import(imported):
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    from mmseg.datasets import BaseSegDataset
    _, out = imported
    dataset = BaseSegDataset(
        data_root=out, data_prefix=dict(img_path='images/train',
                                        seg_map_path='annotations/train'),
        img_suffix='.jpg', seg_map_suffix='.png',
        metainfo=dict(classes=('background', 'car')),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations')])
    assert len(dataset) == 3
    item = dataset[0]
    assert item['gt_seg_map'].shape == item['img'].shape[:2] == (32, 48)


def test_class_list_needed_and_mixed_extensions(masks_set, tmp_path):
    with pytest.raises(DatasetImportError, match='--classes'):
        import_dataset('masks', masks_set['labels'], str(tmp_path / 'o'),
                       masks_set['imgs'])
    labels, imgs = str(tmp_path / 'labels'), str(tmp_path / 'imgs')
    write_label_map(osp.join(labels, 'a.png'), label_map([0, 1]))
    write_label_map(osp.join(labels, 'b.png'), label_map([1, 0]))
    write_bytes(osp.join(labels, 'classes.txt'), b'sky\nsea\n')
    write_image(osp.join(imgs, 'a.jpg'))
    write_image(osp.join(imgs, 'b.png'))
    with pytest.raises(DatasetImportError, match='extensions .jpg, .png'):
        import_dataset('masks', labels, str(tmp_path / 'o'), imgs)


def test_strict_in_process_and_tool_end_to_end(masks_set, tmp_path):
    args = ['masks', masks_set['labels'], '--images', masks_set['imgs'],
            '--classes', ','.join(CLASSES)]
    assert_strict_fails(args, str(tmp_path / 's'))
    out = str(tmp_path / 'cli')
    proc = subprocess.run([sys.executable, TOOL, *args, '--out', out,
                           '--val-fraction', '0.34'],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith('masks (seg): ')
    assert 'm3.png: image' in proc.stdout
    assert read_json(osp.join(out, 'dataset.json'))['splits'] == {
        'train': 2, 'val': 1}
