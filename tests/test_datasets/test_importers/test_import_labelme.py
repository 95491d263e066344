"""labelme import: polygons, rectangles, circles, grouped shapes, image
paths relative to the JSON file; the bad records labelme files can hold."""
import os.path as osp

import pytest
from importer_files import (assert_bad_records, assert_strict_fails,
                            read_json, write_bytes, write_image, write_json)

from mmconvnextv2.datasets.importers import (AnnotationFileError,
                                             import_dataset)


def labelme(image_path, shapes, width=48, height=32):
    return {'version': '5.2.1', 'flags': {}, 'shapes': shapes,
            'imagePath': image_path, 'imageData': None,
            'imageWidth': width, 'imageHeight': height}


def shape(label, points, kind='polygon', group=None):
    return {'label': label, 'points': points, 'group_id': group,
            'shape_type': kind, 'flags': {}}


@pytest.fixture(scope='module')
def labelme_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('labelme'))
    imgs = osp.join(root, 'images')
    for name in ('x.jpg', 'y.jpg', 'z.jpg', 'w.jpg'):
        write_image(osp.join(imgs, name), 48, 32)
    ann = osp.join(root, 'ann')
    write_json(osp.join(ann, 'x.json'), labelme('../images/x.jpg', [
        shape('cat', [[2, 2], [20, 2], [20, 20]]),
        shape('dog', [[30, 25], [25, 5]], 'rectangle'),
        shape('cat', [[10, 10], [14, 10]], 'circle'),
        shape('cat', [[30, 2], [40, 2], [40, 8]], group=1),
        shape('cat', [[30, 12], [40, 12], [40, 18]], group=1),
        shape('dog', [[1, 1], [5, 5]], 'linestrip'),
        shape('cat', [[1, 1], [5, 5]]),
        shape('', [[1, 1], [5, 5], [1, 5]])]))
    write_json(osp.join(ann, 'sub', 'y.json'),
               labelme('..\\..\\images\\y.jpg', [
                   shape('dog', [[1, 1], [9, 1], [9, 9]])]))
    write_json(osp.join(ann, 'z.json'), labelme('../images/z.jpg', [],
                                                width=64))
    write_json(osp.join(ann, 'out.json'), labelme('../../elsewhere.jpg', []))
    return {'root': root, 'imgs': imgs, 'ann': ann}


@pytest.fixture(scope='module')
def imported(labelme_set):
    out = osp.join(labelme_set['root'], 'out')
    return import_dataset('labelme', labelme_set['ann'], out,
                          labelme_set['imgs'], val_fraction=0), out


def test_every_bad_record_named(imported, labelme_set):
    result, _ = imported
    x = osp.join(labelme_set['ann'], 'x.json')
    assert_bad_records(result, 'labelme', [
        (x, "image '../images/x.jpg' shape 5 (dog)",
         'linestrip shape is not an area'),
        (x, "image '../images/x.jpg' shape 6 (cat)", 'fewer than 3'),
        (x, "image '../images/x.jpg' shape 7", 'without a label'),
        (osp.join(labelme_set['ann'], 'z.json'), "image '../images/z.jpg'",
         'its annotation says 64x32'),
        (osp.join(labelme_set['ann'], 'out.json'),
         "image '../../elsewhere.jpg'", 'leads outside')])


def test_shapes_and_paths(imported):
    result, out = imported
    assert result.classes == ['cat', 'dog']
    train = read_json(osp.join(out, 'annotations', 'train.json'))
    assert sorted(i['file_name'] for i in train['images']) == ['x.jpg',
                                                               'y.jpg']
    x_id = next(i['id'] for i in train['images'] if i['file_name'] == 'x.jpg')
    anns = [a for a in train['annotations'] if a['image_id'] == x_id]
    assert len(anns) == 4  # polygon, rectangle, circle, one grouped object
    rectangle = next(a for a in anns if a['category_id'] == 2)
    assert rectangle['bbox'] == [25.0, 5.0, 5.0, 20.0]
    grouped = [a for a in anns if len(a['segmentation']) == 2]
    assert len(grouped) == 1 and grouped[0]['bbox'] == [30.0, 2.0, 10.0,
                                                        16.0]
    assert osp.isfile(osp.join(out, 'images', 'y.jpg'))


def test_images_default_to_the_json_folder(tmp_path):
    write_image(str(tmp_path / 'src' / 'a.png'))
    write_json(str(tmp_path / 'src' / 'a.json'),
               labelme('a.png', [shape('cat', [[1, 1], [9, 1], [9, 9]])]))
    result = import_dataset('labelme', str(tmp_path / 'src'),
                            str(tmp_path / 'out'), val_fraction=0)
    assert result.dataset['splits']['train'] == 1 and not len(result.bad)


def test_broken_file_and_strict(labelme_set, tmp_path):
    write_bytes(str(tmp_path / 'ann' / 'bad.json'), b'{"shapes": [')
    with pytest.raises(AnnotationFileError, match='bad.json: not valid JSON'):
        import_dataset('labelme', str(tmp_path / 'ann'), str(tmp_path / 'o'),
                       labelme_set['imgs'])
    write_json(str(tmp_path / 'other' / 'c.json'), {'images': []})
    with pytest.raises(AnnotationFileError, match='not a labelme file'):
        import_dataset('labelme', str(tmp_path / 'other'),
                       str(tmp_path / 'o'), labelme_set['imgs'])
    assert_strict_fails(['labelme', labelme_set['ann'], '--images',
                         labelme_set['imgs']], str(tmp_path / 'o'))
