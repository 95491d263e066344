"""Pascal VOC import: boxes (1-based, xmax included), sizes checked; the bad
records VOC files can hold; broken XML."""
import os.path as osp

import pytest
from importer_files import (assert_bad_records, assert_strict_fails,
                            read_json, write_bytes, write_image)

from mmconvnextv2.datasets.importers import (AnnotationFileError,
                                             import_dataset)


def voc_xml(filename, objects, width=48, height=32):
    objs = ''.join(
        '<object>' + (f'<name>{name}</name>' if name else '')
        + '<difficult>0</difficult>'
        + ('' if box is None else '<bndbox>' + ''.join(
            f'<{t}>{v}</{t}>' for t, v in zip(
                ('xmin', 'ymin', 'xmax', 'ymax'), box)) + '</bndbox>')
        + '</object>' for name, box in objects)
    return (f'<annotation><folder>JPEGImages</folder>'
            f'<filename>{filename}</filename>'
            f'<path>C:\\Users\\someone\\{filename}</path>'
            f'<size><width>{width}</width><height>{height}</height>'
            f'<depth>3</depth></size>{objs}</annotation>').encode()


@pytest.fixture(scope='module')
def voc_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('voc'))
    imgs = osp.join(root, 'JPEGImages')
    for name in ('p.jpg', 'q.jpg', 'r.jpg'):
        write_image(osp.join(imgs, name), 48, 32)
    ann = osp.join(root, 'Annotations')
    write_bytes(osp.join(ann, 'p.xml'), voc_xml('p.jpg', [
        ('car', (3, 4, 10, 12)),
        ('person', (40, 20, 80, 30)),     # clipped
        ('car', None),                    # no box
        ('', (1, 1, 5, 5)),               # no class
        ('car', (5, 5, 4, 9))]))          # no area
    write_bytes(osp.join(ann, 'q.xml'), voc_xml('q.jpg', [
        ('person', (2, 2, 20, 20))]))
    write_bytes(osp.join(ann, 'r.xml'), voc_xml('r.jpg', [], width=50))
    return {'root': root, 'imgs': imgs, 'ann': ann}


def test_boxes_and_bad_records(voc_set):
    out = osp.join(voc_set['root'], 'out')
    result = import_dataset('voc', voc_set['ann'], out, voc_set['imgs'],
                            val_fraction=0)
    p = osp.join(voc_set['ann'], 'p.xml')
    assert_bad_records(result, 'voc', [
        (p, "image 'p.jpg' object 1 (person)", 'clipped'),
        (p, "image 'p.jpg' object 2 (car)", 'not 4 numbers'),
        (p, "image 'p.jpg' object 3 (no name)", 'without <name>'),
        (p, "image 'p.jpg' object 4 (car)", 'box without area'),
        (osp.join(voc_set['ann'], 'r.xml'), "image 'r.jpg'",
         'its annotation says 50x32')])
    assert result.classes == ['car', 'person']
    train = read_json(osp.join(out, 'annotations', 'train.json'))
    boxes = sorted(a['bbox'] for a in train['annotations'])
    assert boxes == [[1.0, 1.0, 19.0, 19.0], [2.0, 3.0, 8.0, 9.0],
                     [39.0, 19.0, 9.0, 11.0]]
    # a set of boxes only: no segmentation (a box-only detector config)
    assert not any('segmentation' in a for a in train['annotations'])
    assert result.boxes_only


def test_broken_xml_and_strict(voc_set, tmp_path):
    write_bytes(str(tmp_path / 'ann' / 'a.xml'), b'<annotation><filename>')
    with pytest.raises(AnnotationFileError, match='a.xml: not valid XML'):
        import_dataset('voc', str(tmp_path / 'ann'), str(tmp_path / 'o'),
                       voc_set['imgs'])
    write_bytes(str(tmp_path / 'cvat' / 'b.xml'), b'<annotations/>')
    with pytest.raises(AnnotationFileError, match='not a VOC file'):
        import_dataset('voc', str(tmp_path / 'cvat'), str(tmp_path / 'o'),
                       voc_set['imgs'])
    assert_strict_fails(['voc', voc_set['ann'], '--images', voc_set['imgs']],
                        str(tmp_path / 'o'))
