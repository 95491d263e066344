"""Class-folder import: listed as mmpretrain lists it, the layout read back
by mmpretrain's CustomDataset; the bad records class folders can hold; the
tool end to end once."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from importer_files import (TOOL, assert_bad_records, assert_strict_fails,
                            read_json, write_bytes, write_image)

from mmconvnextv2.datasets.importers import import_dataset


@pytest.fixture(scope='module')
def folders_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('folders'))
    train, val = osp.join(root, 'train'), osp.join(root, 'val')
    for name in ('cat/c1.png', 'cat/c2.png', 'cat/sub/c3.png', 'dog/d1.png',
                 'dog/d2.png', 'bird/b1.png'):
        write_image(osp.join(train, name), 40, 30, mode='L')
    write_bytes(osp.join(train, 'cat', 'broken.png'), b'\x89PNG garbage')
    shutil.copyfile(osp.join(train, 'cat', 'c1.png'),
                    osp.join(train, 'dog', 'same_as_c1.png'))
    for name in ('cat/vc.png', 'dog/vd.png', 'fox/vf.png'):
        write_image(osp.join(val, name), 40, 30, mode='L')
    return {'root': root, 'train': train, 'val': val}


@pytest.fixture(scope='module')
def imported(folders_set):
    out = osp.join(folders_set['root'], 'out')
    result = import_dataset('folders', folders_set['train'], out,
                            val=folders_set['val'],
                            classes=['cat', 'dog', 'fox'])
    return result, out


def test_every_bad_record_named(imported, folders_set):
    result, _ = imported
    train = folders_set['train']
    assert_bad_records(result, 'folders', [
        (train, "image 'bird/b1.png'", "'bird' is not in --classes"),
        (train, "image 'cat/broken.png'", 'does not decode'),
        (train, "image 'dog/same_as_c1.png'", "the same content as image "
         "'cat/c1.png'"),
        (folders_set['val'], "class 'fox'", 'seen only in val')])


def test_layout_read_by_mmpretrain(imported):
    from mmpretrain.datasets import CustomDataset
    result, out = imported
    info = read_json(osp.join(out, 'dataset.json'))
    assert info['task'] == 'cls' and info['classes'] == ['cat', 'dog']
    assert info['splits'] == {'train': 5, 'val': 2}
    assert info['channels'] == 1 and len(info['mean']) == 1
    assert info['paths'] == {'train': {'ann_file': '', 'img': 'train'},
                             'val': {'ann_file': '', 'img': 'val'}}
    assert sorted(os.listdir(osp.join(out, 'val'))) == ['cat', 'dog']
    dataset = CustomDataset(data_root=out, data_prefix='train')
    assert len(dataset) == 5 and dataset.CLASSES == ('cat', 'dog')
    assert osp.isfile(osp.join(out, 'train', 'cat', 'sub', 'c3.png'))


def test_strict_in_process_and_tool_end_to_end(folders_set, tmp_path):
    assert_strict_fails(['folders', folders_set['train']],
                        str(tmp_path / 's'))
    out = str(tmp_path / 'cli')
    proc = subprocess.run(
        [sys.executable, TOOL, 'folders', folders_set['train'], '--out', out,
         '--val', folders_set['val'], '--classes', 'cat,dog'],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith('folders (cls): 2 classes, train 5 images'
                                  ', val 2 images')
    assert read_json(osp.join(out, 'dataset.json'))['classes'] == ['cat',
                                                                   'dog']
