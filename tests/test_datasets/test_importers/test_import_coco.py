"""COCO import: polygons, RLE (compressed and not), crowd and box-only
annotations; the bad records a COCO file can hold; re-split by fraction."""
import os.path as osp

import numpy as np
import pytest
from importer_files import (assert_bad_records, assert_strict_fails,
                            read_json, write_image, write_json)
from pycocotools import mask as mask_utils

from mmconvnextv2.datasets.importers import (AnnotationFileError,
                                             import_dataset)


def compressed_rle(height, width):
    mask = np.zeros((height, width), dtype=np.uint8, order='F')
    mask[4:12, 6:20] = 1
    rle = mask_utils.encode(mask)
    return {'size': rle['size'], 'counts': rle['counts'].decode('ascii')}


@pytest.fixture(scope='module')
def coco_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco'))
    imgs = osp.join(root, 'imgs')
    for name in ('a.png', 'b.png', 'c.png', 'e.png', 'f.png', 'g.png'):
        write_image(osp.join(imgs, name), 48, 32)
    images = [
        {'id': 1, 'file_name': 'a.png', 'width': 48, 'height': 32},
        {'id': 2, 'file_name': 'b.png', 'width': 48, 'height': 32},
        {'id': 3, 'file_name': 'c.png', 'width': 100, 'height': 100},
        {'id': 2, 'file_name': 'e.png', 'width': 48, 'height': 32},
        {'id': 5, 'file_name': 'f.png', 'width': 48, 'height': 32},
        {'id': 6, 'file_name': 'g.png', 'width': 48, 'height': 32},
    ]
    anns = [
        {'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [2, 2, 10, 10],
         'segmentation': [[2, 2, 12, 2, 12, 12, 2, 12]]},
        {'id': 2, 'image_id': 1, 'category_id': 2, 'iscrowd': 1,
         'segmentation': compressed_rle(32, 48)},
        {'id': 3, 'image_id': 1, 'category_id': 2,
         'segmentation': {'size': [32, 48], 'counts': [100, 20, 1416]}},
        {'id': 4, 'image_id': 2, 'category_id': 1, 'bbox': [3, 3, 5, 6]},
        {'id': 5, 'image_id': 2, 'category_id': 1,
         'segmentation': [[1, 1, 9, 9]]},                    # polygon
        {'id': 6, 'image_id': 2, 'category_id': 1,
         'bbox': [40, 20, 20, 20]},                          # clipped
        {'id': 7, 'image_id': 2, 'category_id': 99,
         'bbox': [1, 1, 5, 5]},                              # no class
        {'id': 8, 'image_id': 2, 'category_id': 1,
         'bbox': ['x', 1, 5, 5]},                            # shape
        {'id': 9, 'image_id': 42, 'category_id': 1,
         'bbox': [1, 1, 5, 5]},                              # no image
        {'id': 10, 'image_id': 5, 'category_id': 2,
         'segmentation': {'size': [10, 10], 'counts': [100]}},  # size
        {'id': 11, 'image_id': 6, 'category_id': 1, 'bbox': [1, 1, 8, 8]},
        {'id': 12, 'image_id': 5, 'category_id': 2, 'bbox': [1, 1, 8, 8]},
    ]
    cats = [{'id': 1, 'name': 'cat'}, {'id': 2, 'name': 'dog'}]
    ann_file = write_json(osp.join(root, 'instances.json'), {
        'images': images, 'annotations': anns, 'categories': cats})
    return {'root': root, 'imgs': imgs, 'ann': ann_file}


@pytest.fixture(scope='module')
def imported(coco_set):
    out = osp.join(coco_set['root'], 'out')
    return import_dataset('coco', coco_set['ann'], out, coco_set['imgs'],
                          val_fraction=0), out


def test_every_bad_record_named(imported, coco_set):
    result, _ = imported
    ann = coco_set['ann']
    assert_bad_records(result, 'coco', [
        (ann, "annotation id 5 of 'b.png' polygon 0", 'fewer than 3'),
        (ann, "annotation id 6 of 'b.png'", 'box outside the image (48x32): '
         'clipped'),
        (ann, "annotation id 7 of 'b.png'", 'category_id 99'),
        (ann, "annotation id 8 of 'b.png'", 'not 4 numbers'),
        (ann, 'annotation id 9', "image_id 42 is not in"),
        (ann, "image id 2 ('e.png')", 'duplicate image id'),
        (ann, "image id 3 ('c.png')", 'the image is 48x32, its annotation '
         'says 100x100'),
        (ann, "annotation id 10 of 'f.png'", 'RLE of size [10, 10]')])


def test_masks_crowd_and_boxes(imported):
    result, out = imported
    assert result.dataset['splits'] == {'train': 4, 'val': 0}
    train = read_json(osp.join(out, 'annotations', 'train.json'))
    by_id = {img['file_name']: img['id'] for img in train['images']}
    a_anns = [a for a in train['annotations'] if a['image_id'] == by_id['a.png']]
    crowd = [a for a in a_anns if a['iscrowd'] == 1]
    assert len(crowd) == 1 and crowd[0]['area'] == 8 * 14
    assert crowd[0]['bbox'] == [6.0, 4.0, 14.0, 8.0]
    rle = [a for a in a_anns if isinstance(a['segmentation'], dict)
           and a['iscrowd'] == 0]
    assert len(rle) == 1 and isinstance(rle[0]['segmentation']['counts'], str)
    assert rle[0]['area'] == 20
    b_anns = [a for a in train['annotations'] if a['image_id'] == by_id['b.png']]
    assert sorted(a['bbox'] for a in b_anns) == [[3.0, 3.0, 5.0, 6.0],
                                                 [40.0, 20.0, 8.0, 12.0]]
    assert b_anns[0]['segmentation'] == [[3.0, 3.0, 8.0, 3.0, 8.0, 9.0, 3.0,
                                          9.0]]
    assert read_json(osp.join(out, 'annotations', 'val.json'))['images'] == []


def test_resplit_is_seeded(coco_set, tmp_path):
    def val_names(seed, name):
        result = import_dataset('coco', coco_set['ann'], str(tmp_path / name),
                                coco_set['imgs'], val_fraction=0.5,
                                split_seed=seed, classes=['cat', 'dog'])
        return sorted(r.file_name for r in result.splits['val'])
    first = val_names(0, 's0')
    assert len(first) == 2 and val_names(0, 's0b') == first
    assert any(val_names(seed, f's{seed}') != first for seed in (1, 2, 3))


def test_not_a_coco_file_and_strict(coco_set, tmp_path):
    other = write_json(str(tmp_path / 'x.json'), {'images': []})
    with pytest.raises(AnnotationFileError, match='x.json: not a COCO file'):
        import_dataset('coco', other, str(tmp_path / 'o'), coco_set['imgs'])
    assert_strict_fails(['coco', coco_set['ann'], '--images',
                         coco_set['imgs']], str(tmp_path / 'o'))
