"""FCMAE pre-training through tools/train.py on an ImageNet-layout folder (the
session's FCMAE run, tests/helpers/trained.py), and the hand-off: the
checkpoint feeds the Mask R-CNN config's backbone as is (and, through
tools/train.py, the session's Mask R-CNN and UperNet runs); the own-data
config reads any folder of images."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

import mmconvnextv2  # noqa: F401
from mmconvnextv2.runtime import trust_mmengine_checkpoints

from helpers.trained import FCMAE_CONFIG

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOLDER = 'configs/fcmae/fcmae_convnext-v2-atto_1xb32-coslr-5000i_custom-folder.py'
MASK_RCNN = ('configs/mask_rcnn/'
             'mask-rcnn_convnext-v2-atto-fcmae-pre_fpn_8xb2-amp-ms-crop-3x_coco.py')


@pytest.mark.slow
def test_pretrain_then_detector_backbone_loads(trained):
    done = trained.fcmae  # one epoch of the ImageNet recipe, 2 iterations
    assert done.config == FCMAE_CONFIG
    assert osp.isfile(done.checkpoint)
    assert 'Epoch(train) [1][2/2]' in done.output and 'loss:' in done.output

    trust_mmengine_checkpoints()
    state = torch.load(done.checkpoint, map_location='cpu')['state_dict']
    encoder = {k[9:]: v for k, v in state.items() if k.startswith('backbone.')}
    assert any(k.startswith('neck.') for k in state)  # the decoder is saved too

    cfg = Config.fromfile(osp.join(ROOT, MASK_RCNN))
    cfg.model.backbone.init_cfg.checkpoint = done.checkpoint
    cfg.model.backbone.init_cfg.prefix = 'backbone.'
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    own = detector.backbone.state_dict()
    missing = set(own) - set(encoder)
    # only the detector's own output norms are new; every encoder key loads
    assert missing == {f'norm{i}.{p}' for i in range(4) for p in ('weight', 'bias')}
    for key, value in encoder.items():
        assert torch.equal(own[key], value), key


def test_own_folder_config_reads_any_folder(tmp_path):
    """The own-data config reads every image of a folder, at any depth and
    of any usual type, through its own pipeline (224 px crops). Its training
    through tools/train.py: tests/test_engine/test_checkpoint_safety.py
    (tests/helpers/training.py trains this config)."""
    folder = tmp_path / 'my_images' / 'holiday'
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i, ext in enumerate(['jpg', 'png', 'jpg', 'bmp']):
        img = rng.integers(0, 255, (70 + 10 * i, 90, 3), dtype=np.uint8)
        Image.fromarray(img).save(folder / f'img{i}.{ext}')
    (folder / 'notes.txt').write_text('not an image')
    cfg = Config.fromfile(osp.join(ROOT, FOLDER))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = str(tmp_path / 'my_images')
    from mmpretrain.registry import DATASETS
    dataset = DATASETS.build(dataset_cfg)
    assert sorted(osp.basename(dataset.get_data_info(i)['img_path'])
                  for i in range(len(dataset))) == [
                      'img0.jpg', 'img1.png', 'img2.jpg', 'img3.bmp']
    for i in range(len(dataset)):
        assert tuple(dataset[i]['inputs'].shape) == (3, 224, 224)
