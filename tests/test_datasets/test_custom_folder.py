"""FCMAE pre-training on a folder of your own images (mmpretrain's
``CustomDataset``): a folder that does not exist or holds no image stops
tools/train.py with one ``error:`` line naming the folder, before anything is
written."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmconvnextv2.analysis.runner import capture_tool, repo_root
from mmconvnextv2.datasets import check_dataset_config
from mmconvnextv2.datasets.checks import (DatasetConfigError,
                                          DatasetFileNotFoundError)

CONFIG = osp.join(
    repo_root(),
    'configs/fcmae/fcmae_convnext-v2-atto_1xb32-coslr-5000i_custom-folder.py')


def _cfg(data_root: str, **dataset) -> Config:
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.train_dataloader.dataset.update(dataset)
    return cfg


def _image(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path)


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetFileNotFoundError, match='does not exist'):
        check_dataset_config(_cfg(str(tmp_path / 'nope')))


def test_folder_without_images(tmp_path):
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'notes.txt').write_text('not an image')
    with pytest.raises(DatasetConfigError, match=r'no image .*\.jpg'):
        check_dataset_config(_cfg(str(tmp_path)))


def test_images_at_any_depth_and_case(tmp_path):
    _image(tmp_path / 'a' / 'b' / 'x.PNG')
    check_dataset_config(_cfg(str(tmp_path)))


def test_labelled_folder_needs_class_subfolders(tmp_path):
    _image(tmp_path / 'x.png')
    with pytest.raises(DatasetConfigError, match='class subfolders'):
        check_dataset_config(_cfg(str(tmp_path), with_label=True))
    _image(tmp_path / 'cat' / 'y.png')
    check_dataset_config(_cfg(str(tmp_path), with_label=True))


@pytest.mark.parametrize('case', ['missing', 'empty'])
def test_train_prints_one_error_line(tmp_path, case):
    folder = tmp_path / 'images'
    if case == 'empty':
        folder.mkdir()
    work_dir = tmp_path / 'work'
    done = capture_tool('tools/train.py', [
        CONFIG, '--work-dir', work_dir, '--cfg-options',
        f'train_dataloader.dataset.data_root={folder}'], threads=1,
        env={'PYTHONWARNINGS': 'ignore'}, timeout=120)
    assert done.returncode == 1, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('error: '), done.stderr
    assert str(folder) in lines[0] and 'Traceback' not in done.stderr
    assert not work_dir.exists() or not list(work_dir.glob('*.pth'))
