"""Checkpoints written by tools/train.py, shared by the inference and export
tests: the atto Mask R-CNN and UperNet synthetic configs trained for one
iteration on a few synthetic images, and the tiny classifier config of
tests/helpers/classifier.py for one epoch (2 iterations). Trained once per
session, only when a test asks for them."""
from types import SimpleNamespace

import pytest

from mmconvnextv2.analysis.runner import data_options
from mmconvnextv2.datasets import make_synthetic_data

from helpers.classifier import CONFIG as CLS_CONFIG
from helpers.classifier import data_options as cls_data_options
from helpers.classifier import run, write_imagenet_folder

DET_CONFIG = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'
SEG_CONFIG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'


@pytest.fixture(scope='session')
def trained(tmp_path_factory):
    """``.det``, ``.seg``, ``.cls``: (config, checkpoint) each; ``.data``:
    the synthetic data folder; ``.imagenet``: the classifier's folder."""
    root = tmp_path_factory.mktemp('trained')
    data = root / 'data'
    make_synthetic_data(str(data), seed=0, num_train=2, num_val=2, size=128)
    one_iter = ['train_cfg.max_iters=1', 'train_cfg.val_begin=1000',
                'default_hooks.checkpoint.interval=1']
    run(['tools/train.py', DET_CONFIG, '--work-dir', str(root / 'det'),
         '--cfg-options', *data_options('det', str(data)), *one_iter])
    run(['tools/train.py', SEG_CONFIG, '--work-dir', str(root / 'seg'),
         '--cfg-options', *data_options('seg', str(data)), *one_iter])
    imagenet = root / 'imagenet'
    write_imagenet_folder(str(imagenet))
    run(['tools/train.py', CLS_CONFIG, '--work-dir', str(root / 'cls'),
         '--cfg-options', 'train_cfg.max_epochs=1',
         *cls_data_options(str(imagenet))])
    return SimpleNamespace(
        root=root, data=data, imagenet=imagenet,
        det=(DET_CONFIG, str(root / 'det' / 'iter_1.pth')),
        seg=(SEG_CONFIG, str(root / 'seg' / 'iter_1.pth')),
        cls=(CLS_CONFIG, str(root / 'cls' / 'epoch_1.pth')))
