"""The parts every import shares: bad-record kinds, image paths, shapes,
the split, the image figures, OUT's safety rules and the image links."""
import os
import os.path as osp

import numpy as np
import pytest
from importer_files import (EXPECTED_KINDS, load_tool, read_json,
                            write_image, write_json)
from PIL import Image

from mmconvnextv2.datasets.importers import (BAD_KINDS, BadRecords,
                                             DatasetImportError,
                                             import_dataset, name_prefix,
                                             split_by_fraction, writers)
from mmconvnextv2.datasets.importers.records import Instance, image_path
from mmconvnextv2.datasets.importers.shapes import coco_object
from mmconvnextv2.datasets.importers.statistics import measure_image


def test_the_format_tests_provoke_every_kind():
    assert set().union(*EXPECTED_KINDS.values()) == set(BAD_KINDS)
    with pytest.raises(KeyError):
        BadRecords().add('no-such-kind', 'f', 'r', 'why')


@pytest.mark.parametrize('name, prefix', [
    ('video3image0012.jpg', 'video3image'),
    ('video3image0013.jpg', 'video3image'),
    ('scan12_004.png', 'scan12'), ('scan12-005.png', 'scan12'),
    ('seq1/0007.png', 'seq1/'), ('plain.jpg', 'plain')])
def test_name_prefix(name, prefix):
    assert name_prefix(name) == prefix


def test_split_is_seeded_and_keeps_groups():
    names = [f'cam{c}_{i:03d}.jpg' for c in range(5) for i in range(4)]
    train, val = split_by_fraction(names, names, 0.2, seed=0)
    assert len(val) == 4 and len(train) == 16
    backwards = names[::-1]  # the input order does not change the draw
    assert set(split_by_fraction(backwards, backwards, 0.2)[1]) == set(val)
    assert any(split_by_fraction(names, names, 0.2, seed=s)[1] != val
               for s in (1, 2, 3))
    train, val = split_by_fraction(names, names, 0.2, seed=0,
                                   group_by_prefix=True)
    assert len(val) == 4 and len({name_prefix(n) for n in val}) == 1
    assert not {name_prefix(n) for n in val} & {name_prefix(n)
                                                for n in train}
    one = [f'frame{i}.jpg' for i in range(6)]
    with pytest.raises(DatasetImportError, match='1 name group'):
        split_by_fraction(one, one, 0.3, group_by_prefix=True)


def test_image_paths_refused_and_resolved(tmp_path):
    root = str(tmp_path / 'imgs')
    for name in ('/etc/x.jpg', 'C:\\data\\x.jpg', '../x.jpg', 'a/../../x.jpg',
                 'https://example.org/x.jpg'):
        file_name, why = image_path(root, name)
        assert file_name is None and 'refused' in why, name
    assert image_path(root, 'a/./b/../x.jpg') == ('a/x.jpg', '')
    assert image_path(root, '..\\imgs\\x.jpg',
                      base_dir=str(tmp_path / 'ann')) == ('x.jpg', '')


def test_shapes_tolerance_clip_and_empty():
    bad = BadRecords()
    near = Instance('a', 'near', polygons=[[-0.5, 0, 10, 0, 10, 10.8]])
    assert coco_object(near, 10, 10, 'f', bad)['bbox'] == [0, 0, 10, 10]
    assert not len(bad)
    far = Instance('a', 'far', box=(20, 20, 30, 30))
    assert coco_object(far, 10, 10, 'f', bad) is None
    tiny = Instance('a', 'tiny', box=(1, 1, 1.5, 5))
    assert coco_object(tiny, 10, 10, 'f', bad) is None
    assert [(b.record, b.kind) for b in bad] == [('far', 'outside'),
                                                 ('tiny', 'empty')]


def test_image_figures(tmp_path):
    path = str(tmp_path / 'flat.png')
    Image.new('RGB', (6, 4), (10, 20, 30)).save(path)
    info = measure_image(path)
    assert (info.width, info.height, info.channels, info.dtype) == (
        6, 4, 3, 'uint8')
    assert (info.sums / info.pixels).tolist() == [10, 20, 30]
    deep = str(tmp_path / 'deep.png')
    Image.fromarray(np.full((4, 6), 1000, dtype=np.uint16)).save(deep)
    assert measure_image(deep).dtype == 'uint16'
    turned = str(tmp_path / 'turned.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: the loader gives 4 x 6
    Image.new('RGB', (6, 4)).save(turned, exif=exif)
    assert (measure_image(turned).width, measure_image(turned).height) == (
        4, 6)


@pytest.fixture
def small_coco(tmp_path):
    imgs = str(tmp_path / 'imgs')
    for name in ('a.jpg', 'b.jpg', 'c.jpg'):
        write_image(osp.join(imgs, name))
    ann = write_json(str(tmp_path / 'ann.json'), {
        'images': [{'id': i, 'file_name': n, 'width': 48, 'height': 32}
                   for i, n in enumerate(('a.jpg', 'b.jpg', 'c.jpg'))],
        'annotations': [{'id': i, 'image_id': i, 'category_id': 1,
                         'bbox': [1, 1, 8, 8]} for i in range(3)],
        'categories': [{'id': 1, 'name': 'x'}]})
    return imgs, ann


def test_out_is_checked(small_coco, tmp_path):
    imgs, ann = small_coco
    with pytest.raises(DatasetImportError, match='overlap'):
        import_dataset('coco', ann, osp.join(imgs, 'out'), imgs)
    with pytest.raises(DatasetImportError, match='overlap'):
        import_dataset('coco', ann, str(tmp_path), imgs)
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('mine')
    with pytest.raises(DatasetImportError, match='holds no earlier import'):
        import_dataset('coco', ann, str(foreign), imgs)
    out = str(tmp_path / 'out')
    import_dataset('coco', ann, out, imgs, val_fraction=0)
    stale = osp.join(out, 'images', 'stale.jpg')
    write_image(stale)
    result = import_dataset('coco', ann, out, imgs, val_fraction=0.34)
    assert result.written and not osp.exists(stale)
    assert read_json(osp.join(out, 'dataset.json'))['splits'] == {
        'train': 2, 'val': 1}


def test_arguments_that_do_not_fit(small_coco, tmp_path):
    imgs, ann = small_coco
    out = str(tmp_path / 'o')
    with pytest.raises(DatasetImportError, match='not both'):
        import_dataset('coco', ann, out, imgs, val=ann, val_fraction=0.2)
    with pytest.raises(DatasetImportError, match='--group-by-prefix'):
        import_dataset('coco', ann, out, imgs, val=ann, group_by_prefix=True)
    with pytest.raises(SystemExit) as exit_info:
        load_tool().main(['coco', ann, '--out', out])
    assert str(exit_info.value.code).startswith('error: coco: give the '
                                                'image folder with --images')
    assert not osp.exists(out)


def test_nothing_left_for_train(tmp_path, capsys):
    imgs = str(tmp_path / 'imgs')
    os.makedirs(imgs)
    ann = write_json(str(tmp_path / 'ann.json'), {
        'images': [{'id': 1, 'file_name': 'gone.jpg'}], 'annotations': [],
        'categories': []})
    with pytest.raises(SystemExit) as exit_info:
        load_tool().main(['coco', ann, '--images', imgs, '--out',
                          str(tmp_path / 'o')])
    assert exit_info.value.code == ('error: no image left for train (1 bad '
                                    'record(s)): nothing written')
    assert "image id 1 ('gone.jpg'): image file missing" in \
        capsys.readouterr().out
    assert not osp.exists(tmp_path / 'o')


def test_val_from_another_folder_keeps_names_apart(small_coco, tmp_path):
    imgs, ann = small_coco
    other = str(tmp_path / 'other')
    write_image(osp.join(other, 'a.jpg'))  # another picture, same name
    val = write_json(str(tmp_path / 'val.json'), {
        'images': [{'id': 1, 'file_name': 'a.jpg'}], 'annotations': [
            {'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [2, 2, 5, 5]}],
        'categories': [{'id': 1, 'name': 'x'}]})
    out = str(tmp_path / 'out')
    import_dataset('coco', ann, out, imgs, val=val, val_images=other)
    names = [i['file_name'] for i in read_json(
        osp.join(out, 'annotations', 'val.json'))['images']]
    assert names == ['val/a.jpg']
    assert osp.isfile(osp.join(out, 'images', 'val', 'a.jpg'))


def test_link_falls_back_to_a_copy(tmp_path, monkeypatch):
    src = write_image(str(tmp_path / 'a.png'))

    def refuse(*args, **kwargs):
        raise OSError('not here')
    monkeypatch.setattr(os, 'link', refuse)
    monkeypatch.setattr(os, 'symlink', refuse)
    dst = str(tmp_path / 'out' / 'a.png')
    writers.link_image(src, dst)
    assert not osp.islink(dst) and open(dst, 'rb').read() == open(
        src, 'rb').read()
    assert os.stat(dst).st_ino != os.stat(src).st_ino
