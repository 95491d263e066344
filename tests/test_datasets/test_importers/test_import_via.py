"""VIA import: good regions of every shape, every bad record VIA can hold,
the tool end to end (once, through a subprocess) and under --strict."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from importer_files import (TOOL, assert_bad_records, assert_strict_fails,
                            load_tool, read_json, tree_digest, write_bytes,
                            write_image, write_json)

from mmconvnextv2.datasets.importers import (AnnotationFileError,
                                             DatasetImportError,
                                             import_dataset)

CLASSES = 'balloon,kite,dog,bird'


def region(shape, cls):
    return {'shape_attributes': shape, 'region_attributes': {'kind': cls}}


def poly(xs, ys):
    return {'name': 'polygon', 'all_points_x': xs, 'all_points_y': ys}


def rect(x, y, w, h):
    return {'name': 'rect', 'x': x, 'y': y, 'width': w, 'height': h}


@pytest.fixture(scope='module')
def via_set(tmp_path_factory):
    """VIA 2.x export for train, VIA 1.x (regions as a dict) for val."""
    root = str(tmp_path_factory.mktemp('via'))
    imgs = osp.join(root, 'src', 'imgs')
    for name in ('a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'v1.jpg', 'v2.jpg'):
        write_image(osp.join(imgs, name), 60, 40)
    shutil.copyfile(osp.join(imgs, 'a.jpg'), osp.join(imgs, 'copy_of_a.jpg'))
    write_bytes(osp.join(imgs, 'broken.jpg'), b'not a jpeg at all')
    train = {
        'a.jpg1': {'filename': 'a.jpg', 'regions': [
            region(poly([5, 20, 20, 5], [5, 5, 30, 30]), 'balloon'),
            region(rect(30, 5, 10, 10), 'kite'),
            region({'name': 'circle', 'cx': 45, 'cy': 25, 'r': 5}, 'balloon'),
            region({'name': 'ellipse', 'cx': 20, 'cy': 20, 'rx': 8, 'ry': 4,
                    'theta': 0.5}, 'kite')]},
        'b.jpg1': {'filename': 'b.jpg', 'regions': [
            region(poly([5, 20], [5, 5]), 'balloon'),            # polygon
            region(rect(50, 30, 20, 20), 'kite'),                # clipped
            region(rect(100, 100, 5, 5), 'kite'),                # dropped
            region({'name': 'point', 'cx': 3, 'cy': 3}, 'kite'),  # shape
            region(poly([1, 9, 9], [1, 1, 9]), ''),             # no class
            region(poly([1, 9, 9], [1, 1, 9]), 'zebra'),         # unknown
            region(poly([1, 9, 9], [1, 1, 9]), 'balloon')]},
        'c.jpg1': {'filename': 'c.jpg', 'regions': [
            region(poly([1, 5, 9], [1, 5, 9]), 'kite'),          # no area
            region(rect(2, 2, 10, 10), 'kite')]},
        'd.jpg1': {'filename': 'd.jpg', 'regions': []},
        'up': {'filename': '../outside.jpg', 'regions': []},
        'abs': {'filename': '/etc/hostname', 'regions': []},
        'miss': {'filename': 'missing.jpg', 'regions': []},
        'brk': {'filename': 'broken.jpg', 'regions': []},
        'a.jpg2': {'filename': 'a.jpg', 'regions': []},           # same file
        'copy': {'filename': 'copy_of_a.jpg', 'regions': []},     # same bytes
    }
    val = {
        'v1.jpg1': {'filename': 'v1.jpg', 'regions': {
            '0': region(poly([5, 20, 20, 5], [5, 5, 30, 30]), 'balloon'),
            '1': region(rect(30, 5, 10, 10), 'dog')}},            # val only
        'v2.jpg1': {'filename': 'v2.jpg', 'regions': {
            '0': region(rect(3, 3, 10, 10), 'kite')}},
    }
    paths = {'root': root, 'imgs': imgs,
             'train': write_json(osp.join(root, 'src', 'via.json'), train),
             'val': write_json(osp.join(root, 'src', 'via_val.json'), val)}
    return paths


@pytest.fixture(scope='module')
def imported(via_set):
    before = tree_digest(osp.join(via_set['root'], 'src'))
    out = osp.join(via_set['root'], 'out')
    result = import_dataset('via', via_set['train'], out, via_set['imgs'],
                            val=via_set['val'], classes=CLASSES.split(','))
    assert tree_digest(osp.join(via_set['root'], 'src')) == before
    return result, out


def test_every_bad_record_named(imported, via_set):
    result, _ = imported
    train, val = via_set['train'], via_set['val']
    assert_bad_records(result, 'via', [
        (train, "image 'b.jpg' region 0", 'fewer than 3'),
        (train, "image 'b.jpg' region 1", 'clipped'),
        (train, "image 'b.jpg' region 2", 'nothing left'),
        (train, "image 'b.jpg' region 3", 'point region is not an area'),
        (train, "image 'b.jpg' region 4", "no class in region attribute"),
        (train, "image 'b.jpg' region 5", "'zebra' is not in --classes"),
        (train, "image 'c.jpg' region 0", 'without area'),
        (train, "image '../outside.jpg'", 'leads outside the image folder'),
        (train, "image '/etc/hostname'", 'is absolute: refused'),
        (train, "image 'missing.jpg'", 'image file missing'),
        (train, "image 'broken.jpg'", 'does not decode'),
        (train, "image 'a.jpg'", 'the same file as'),
        (train, "image 'copy_of_a.jpg'", 'the same content as'),
        (val, "class 'dog'", 'seen only in val'),
        ('--classes', "class 'bird'", 'no example in train or val')])


def test_layout_and_dataset_json(imported, via_set):
    result, out = imported
    info = read_json(osp.join(out, 'dataset.json'))
    assert info['task'] == 'det' and info['source'] == 'via'
    assert info['classes'] == ['balloon', 'kite']
    assert info['splits'] == {'train': 4, 'val': 2}
    assert info['image_sizes'] == {'min': [60, 40], 'median': [60, 40],
                                   'max': [60, 40]}
    assert info['channels'] == 3 and info['dtype'] == 'uint8'
    assert len(info['mean']) == 3 and all(90 < m < 165 for m in info['mean'])
    assert info['paths']['val'] == {'ann_file': 'annotations/val.json',
                                    'img': 'images'}
    train = read_json(osp.join(out, 'annotations', 'train.json'))
    val = read_json(osp.join(out, 'annotations', 'val.json'))
    assert train['categories'] == [{'id': 1, 'name': 'balloon'},
                                   {'id': 2, 'name': 'kite'}]
    assert sorted(i['file_name'] for i in train['images']) == [
        'a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']
    a_id = next(i['id'] for i in train['images'] if i['file_name'] == 'a.jpg')
    a_anns = [a for a in train['annotations'] if a['image_id'] == a_id]
    assert len(a_anns) == 4 and all(a['iscrowd'] == 0 for a in a_anns)
    assert all(len(a['segmentation'][0]) >= 6 for a in a_anns)
    box = next(a for a in a_anns if a['category_id'] == 2
               and a['bbox'] == [30.0, 5.0, 10.0, 10.0])
    assert box['area'] == 100.0
    circle = [a for a in a_anns if len(a['segmentation'][0]) == 64]
    assert len(circle) == 2  # circle and ellipse: 32-point polygons
    clipped = [a for a in train['annotations'] if a['bbox'] == [
        50.0, 30.0, 10.0, 10.0]]
    assert len(clipped) == 1
    # dog (val only) is gone from val; the kite box stays
    assert [a['category_id'] for a in val['annotations']] == [1, 2]
    ids = [i['id'] for i in train['images'] + val['images']]
    assert len(set(ids)) == len(ids)
    for name in ('a.jpg', 'v1.jpg'):
        assert osp.isfile(osp.join(out, 'images', name))
    report = read_json(osp.join(out, 'import_report.json'))
    assert len(report['bad_records']) == len(result.bad)
    assert not osp.exists(osp.join(out, '.import-incomplete'))


def test_mmdet_reads_the_import(imported):
    """mmdet's CocoDataset loads an imported image with boxes and masks."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    from mmdet.datasets import CocoDataset
    _, out = imported
    dataset = CocoDataset(
        data_root=out, ann_file='annotations/train.json',
        data_prefix=dict(img='images/'),
        metainfo=dict(classes=('balloon', 'kite')),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True,
                       with_mask=True)])
    item = next(dataset[i] for i in range(len(dataset))
                if dataset.get_data_info(i)['img_path'].endswith('a.jpg'))
    assert item['img'].shape == (40, 60, 3)
    assert len(item['gt_bboxes']) == 4 and len(item['gt_masks']) == 4


def test_one_class_without_attributes_and_attribute_choice(tmp_path):
    imgs = str(tmp_path / 'imgs')
    write_image(osp.join(imgs, 'x.jpg'))
    plain = write_json(str(tmp_path / 'plain.json'), {'x': {
        'filename': 'x.jpg', 'regions': [{'shape_attributes': rect(
            1, 1, 9, 9), 'region_attributes': {}}]}})
    result = import_dataset('via', plain, str(tmp_path / 'o1'), imgs,
                            classes=['balloon'], val_fraction=0)
    assert result.classes == ['balloon'] and not len(result.bad)
    two = write_json(str(tmp_path / 'two.json'), {'x': {
        'filename': 'x.jpg', 'regions': [{'shape_attributes': rect(
            1, 1, 9, 9), 'region_attributes': {'a': 'cat', 'b': 'red'}}]}})
    with pytest.raises(DatasetImportError, match='--class-attribute'):
        import_dataset('via', two, str(tmp_path / 'o2'), imgs)
    result = import_dataset('via', two, str(tmp_path / 'o3'), imgs,
                            class_attribute='b', val_fraction=0)
    assert result.classes == ['red']


def test_broken_and_foreign_files(tmp_path):
    imgs = str(tmp_path / 'imgs')
    write_image(osp.join(imgs, 'x.jpg'))
    broken = write_bytes(str(tmp_path / 'broken.json'), b'{"x": [1, 2')
    with pytest.raises(AnnotationFileError, match='broken.json: not valid '
                       'JSON'):
        import_dataset('via', broken, str(tmp_path / 'o'), imgs)
    via3 = write_json(str(tmp_path / 'v3.json'),
                      {'project': {}, 'file': {}, 'metadata': {}})
    with pytest.raises(AnnotationFileError, match='VIA 3'):
        import_dataset('via', via3, str(tmp_path / 'o'), imgs)
    with pytest.raises(SystemExit) as exit_info:
        load_tool().main(['via', broken, '--images', imgs, '--out',
                          str(tmp_path / 'o')])
    assert exit_info.value.code == 2
    assert not osp.exists(tmp_path / 'o')


def test_strict_exits_2_and_writes_nothing(via_set, tmp_path, capsys):
    assert_strict_fails(['via', via_set['train'], '--images', via_set['imgs'],
                         '--val', via_set['val'], '--classes', CLASSES],
                        str(tmp_path / 'strict'))
    printed = capsys.readouterr().out
    assert 'fewer than 3' in printed and 'nothing written' in printed


def test_tool_end_to_end(via_set, tmp_path):
    out = str(tmp_path / 'cli')
    proc = subprocess.run(
        [sys.executable, TOOL, 'via', via_set['train'], '--images',
         via_set['imgs'], '--out', out, '--val-fraction', '0.25',
         '--split-seed', '3'], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith('via (det): 3 classes')  # zebra kept: no list
    assert any(line.split()[:1] == ['balloon'] for line in lines)
    assert any("region 0: polygon with 2 point(s)" in line for line in lines)
    info = read_json(osp.join(out, 'dataset.json'))
    assert sum(info['splits'].values()) == 4
    assert os.listdir(osp.join(out, 'images'))
