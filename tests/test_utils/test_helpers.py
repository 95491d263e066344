"""The shared helpers of mmconvnextv2.utils."""
import os
import os.path as osp

import pytest

from mmconvnextv2.utils import (POINTER, TMP_MARK, AtomicWriteError,
                                config_dicts, innermost_dataset,
                                is_image_file, is_remote, list_images,
                                one_line, read_json, read_pointer,
                                revert_sync_bn, time_turns, write_atomically,
                                write_json)


def test_one_line_takes_the_original_message_of_a_worker_traceback():
    err = RuntimeError('Caught ValueError in DataLoader worker process 0.\n'
                       'Traceback (most recent call last):\n  File "x"\n'
                       'ValueError: cannot load image a.png')
    assert one_line(err) == 'ValueError: cannot load image a.png'
    same = ValueError('Traceback (most recent call last):\n  File "x"\n'
                      'ValueError: cannot load image a.png')
    assert one_line(same) == 'cannot load image a.png'
    assert one_line(ValueError('')) == 'ValueError'
    assert one_line(OSError('first\nsecond'), with_type=True) == \
        'OSError: first'
    assert one_line(ValueError('x' * 300), with_type=True, limit=200) == \
        'ValueError: ' + 'x' * 200


@pytest.mark.parametrize('path, remote', [
    ('https://host/a.pth', True), ('s3://bucket/a', True),
    ('open-mmlab://x', True), ('work_dirs/a.pth', False),
    ('/abs/path://odd', False), (None, False)])
def test_is_remote(path, remote):
    assert is_remote(path) is remote


def test_write_json_is_atomic_and_reads_back(tmp_path):
    path = tmp_path / 'sub' / 'a.json'
    write_json(path, {'a': 1})
    assert read_json(path) == {'a': 1}
    write_json(path, {'a': 2})
    assert read_json(path) == {'a': 2}
    assert not [f for f in os.listdir(path.parent) if TMP_MARK in f]
    assert read_json(tmp_path / 'missing.json') is None
    (tmp_path / 'bad.json').write_text('{')
    assert read_json(tmp_path / 'bad.json') is None


def test_failed_atomic_write_keeps_the_old_file(tmp_path):
    path = tmp_path / 'a.txt'
    write_atomically(path, 'old')
    folder = tmp_path / 'dir'
    folder.mkdir()
    with pytest.raises(AtomicWriteError, match='could not write'):
        write_atomically(folder, 'new')  # a directory cannot be replaced
    assert path.read_text() == 'old'
    assert not [f for f in os.listdir(tmp_path) if TMP_MARK in f]


def test_read_pointer(tmp_path):
    assert read_pointer(tmp_path) is None
    ckpt = tmp_path / 'iter_4.pth'
    (tmp_path / POINTER).write_text(f'{ckpt}\n')
    assert read_pointer(tmp_path) == str(ckpt)
    assert read_pointer(tmp_path, must_exist=True) is None
    ckpt.write_bytes(b'x')
    assert read_pointer(tmp_path, must_exist=True) == str(ckpt)


def test_list_images_sorted_and_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        list_images(str(tmp_path / 'nope'))
    with pytest.raises(FileNotFoundError, match='no images'):
        list_images(str(tmp_path))
    for name in ('b.PNG', 'a.jpg', 'notes.txt', 'sub/c.webp'):
        os.makedirs(osp.dirname(tmp_path / name), exist_ok=True)
        (tmp_path / name).write_bytes(b'')
    assert [osp.relpath(p, tmp_path) for p in list_images(str(tmp_path))] \
        == ['a.jpg', 'b.PNG', 'sub/c.webp']
    assert len(list_images(str(tmp_path), recursive=False)) == 2
    assert is_image_file('x.TIFF') and not is_image_file('x.json')


def test_config_walking():
    cfg = dict(model=dict(backbone=dict(norm_cfg=dict(type='SyncBN')),
                          heads=[dict(norm_cfg=dict(type='MMSyncBN')),
                                 dict(norm_cfg=dict(type='BN'))]))
    assert len(list(config_dicts(cfg))) == 8
    assert revert_sync_bn(cfg) == 2
    assert {d['type'] for d in config_dicts(cfg) if 'type' in d} == {'BN'}
    wrapped = dict(type='RepeatDataset', times=2,
                   dataset=dict(type='ClassBalancedDataset',
                                dataset=dict(type='CocoDataset')))
    assert innermost_dataset(wrapped) == dict(type='CocoDataset')


def test_time_turns_drops_warmup_and_alternates():
    calls = []
    times = time_turns({'a': lambda: calls.append('a'),
                        'b': lambda: calls.append('b')}, rounds=3, warmup=1)
    assert calls == ['a', 'b'] * 4
    assert {k: len(v) for k, v in times.items()} == {'a': 3, 'b': 3}
    assert all(t >= 0 for v in times.values() for t in v)


def test_write_via_temp_keeps_extension_and_old_file(tmp_path):
    from mmconvnextv2.utils import write_via_temp
    path = tmp_path / 'grid.png'
    seen = []

    def write(tmp):
        seen.append(tmp)
        with open(tmp, 'w') as f:
            f.write('new')

    write_via_temp(path, write)
    assert path.read_text() == 'new' and seen[0].endswith('.png')
    def fail(tmp):
        with open(tmp, 'w') as f:
            f.write('half')
        raise RuntimeError('disk full')

    with pytest.raises(RuntimeError, match='disk full'):
        write_via_temp(path, fail)
    assert path.read_text() == 'new'
    assert os.listdir(tmp_path) == ['grid.png']
