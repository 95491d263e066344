"""FCMAE pre-training through tools/train.py on an ImageNet-layout folder, and
the hand-off: the checkpoint feeds the Mask R-CNN config's backbone as is."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

import mmconvnextv2  # noqa: F401
from mmconvnextv2.analysis.runner import capture_tool, data_options
from mmconvnextv2.runtime import trust_mmengine_checkpoints

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FCMAE = 'configs/fcmae/fcmae_convnext-v2-atto_8xb512-amp-coslr-800e_in1k.py'
MASK_RCNN = ('configs/mask_rcnn/'
             'mask-rcnn_convnext-v2-atto-fcmae-pre_fpn_8xb2-amp-ms-crop-3x_coco.py')


def write_imagenet_folder(root: str, per_class: int = 2) -> None:
    """mmpretrain's ImageNet layout: ``train/<wnid>/*.JPEG`` + ``meta/train.txt``."""
    rng = np.random.default_rng(0)
    lines = []
    for label, wnid in enumerate(('n01440764', 'n01443537')):
        os.makedirs(osp.join(root, 'train', wnid))
        for i in range(per_class):
            img = rng.integers(0, 255, (96, 120, 3), dtype=np.uint8)
            name = f'{wnid}/{wnid}_{i}.JPEG'
            Image.fromarray(img).save(osp.join(root, 'train', name))
            lines.append(f'{name} {label}\n')
    os.makedirs(osp.join(root, 'meta'))
    with open(osp.join(root, 'meta', 'train.txt'), 'w') as f:
        f.writelines(lines)


@pytest.mark.slow
def test_pretrain_then_detector_backbone_loads(tmp_path):
    data = tmp_path / 'imagenet'
    write_imagenet_folder(str(data))
    work_dir = tmp_path / 'work'
    args = [FCMAE, '--work-dir', str(work_dir), '--cfg-options',
            *data_options('root', data, ['train']),
            'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1']
    done = capture_tool('tools/train.py', args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ckpt = work_dir / 'epoch_1.pth'
    assert ckpt.exists()
    log = done.stdout + done.stderr
    assert 'Epoch(train) [1][2/2]' in log and 'loss:' in log

    trust_mmengine_checkpoints()
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    encoder = {k[9:]: v for k, v in state.items() if k.startswith('backbone.')}
    assert any(k.startswith('neck.') for k in state)  # the decoder is saved too

    cfg = Config.fromfile(osp.join(ROOT, MASK_RCNN))
    cfg.model.backbone.init_cfg.checkpoint = str(ckpt)
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


@pytest.mark.slow
def test_own_folder_config_trains(tmp_path):
    """The own-data config pre-trains on any folder of unlabelled images."""
    folder = tmp_path / 'my_images' / 'holiday'
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i, ext in enumerate(['jpg', 'png', 'jpg', 'bmp']):
        img = rng.integers(0, 255, (70 + 10 * i, 90, 3), dtype=np.uint8)
        Image.fromarray(img).save(folder / f'img{i}.{ext}')
    work_dir = tmp_path / 'work'
    args = ['configs/fcmae/fcmae_convnext-v2-atto_1xb32-coslr-5000i_custom-folder.py',
            '--work-dir', str(work_dir), '--cfg-options',
            *data_options('root', tmp_path / 'my_images', ['train']),
            'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'train_cfg.max_iters=3', 'default_hooks.checkpoint.interval=3',
            'default_hooks.logger.interval=1']
    done = capture_tool('tools/train.py', args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (work_dir / 'iter_3.pth').exists()
    assert 'Iter(train) [3/3]' in done.stdout + done.stderr
