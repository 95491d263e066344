"""Mask R-CNN and UperNet on C-channel images: the shipped synthetic
configs, made C-channel by their one option (``set_image_channels``), take
a training step on 1-band 16-bit and 4-band float32 TIFFs that mmdet's
CocoDataset and mmseg's BaseSegDataset read through LoadAnyImageFromFile;
the C-channel stem learns and 16-bit values reach the data preprocessor."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from helpers.modalities import bands_tiff, grey16_tiff, stem_learning_step
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DATASETS, MODELS, DefaultScope

from mmconvnextv2.datasets.channel_checks import check_channels
from mmconvnextv2.datasets.channel_configs import set_image_channels
from mmconvnextv2.datasets.importers.statistics import folder_figures

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DET = osp.join(ROOT, 'configs/mask_rcnn/'
               'mask-rcnn_convnext-v2-atto_fpn_synthetic.py')
SEG = osp.join(ROOT, 'configs/upernet/'
               'upernet_convnext-v2-atto_synthetic-128x128.py')
SIZE = 64
CHANNELS = [1, 4]


def write_frame(folder: str, name: str, channels: int, seed: int) -> None:
    """A 16-bit grey (C = 1) or float32 C-band TIFF."""
    if channels == 1:
        grey16_tiff(folder, name, size=SIZE, seed=seed)
    else:
        bands_tiff(folder, name, size=SIZE, bands=channels, seed=seed)


def coco_folder(root: str, channels: int) -> str:
    """Two TIFF frames with two boxed, outlined objects each."""
    images, anns = [], []
    os.makedirs(osp.join(root, 'images'))
    for i in range(2):
        write_frame(osp.join(root, 'images'), f'{i}.tif', channels, i)
        images.append(dict(id=i + 1, file_name=f'{i}.tif', width=SIZE,
                           height=SIZE))
        for j, (x, y) in enumerate(((6, 8), (34, 30))):
            anns.append(dict(
                id=len(anns) + 1, image_id=i + 1, category_id=1 + j,
                bbox=[x, y, 22, 20], area=440, iscrowd=0,
                segmentation=[[x, y, x + 22, y, x + 22, y + 20, x, y + 20]]))
    coco = dict(images=images, annotations=anns,
                categories=[dict(id=1, name='a'), dict(id=2, name='b')])
    path = osp.join(root, 'train.json')
    with open(path, 'w') as f:
        json.dump(coco, f)
    return path


def seg_folder(root: str, channels: int) -> None:
    """Two TIFF frames and their label PNGs (0: other, ignored)."""
    for folder in ('img', 'ann'):
        os.makedirs(osp.join(root, folder))
    for i in range(2):
        write_frame(osp.join(root, 'img'), f'{i}.tif', channels, i)
        label = np.ones((SIZE, SIZE), np.uint8)
        label[10:40, 12:50] = 2
        label[:4] = 0
        assert cv2.imwrite(osp.join(root, 'ann', f'{i}.png'), label)


def c_channel_config(path: str, channels: int, images: str) -> Config:
    """The shipped config with its one channel option, from the images'
    figures; the channel check passes."""
    cfg = Config.fromfile(path)
    stats = folder_figures(images)
    assert stats['channels'] == channels
    set_image_channels(cfg, channels, stats['mean'], stats['std'])
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        check_channels(cfg)
    return cfg


def train_step(cfg: Config) -> dict:
    """One train_step of ``cfg.model`` on its train dataset's 2 frames;
    the losses and what the data preprocessor was given."""
    seen = {}

    def look(_, args):
        seen['inputs'] = args[0]['inputs']

    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        batch = pseudo_collate([dataset[i] for i in range(2)])
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
    model.init_weights()
    model.data_preprocessor.register_forward_pre_hook(look)
    losses = stem_learning_step(model, batch, lr=0.01)
    return dict(losses=losses, inputs=seen['inputs'])


def check_inputs(inputs: list, channels: int) -> None:
    assert all(x.shape[0] == channels for x in inputs)
    if channels == 1:  # 16-bit values reach the preprocessor unquantised
        assert all(x.dtype == torch.uint16 for x in inputs)
        assert max(int(x.int().max()) for x in inputs) > 255
    else:
        assert all(x.dtype == torch.float32 for x in inputs)
        assert min(float(x.min()) for x in inputs) < 0  # float bands kept


@pytest.mark.parametrize('channels', CHANNELS)
def test_mask_rcnn_step_on_c_channel_tiffs(tmp_path, channels):
    ann = coco_folder(str(tmp_path), channels)
    cfg = c_channel_config(DET, channels, str(tmp_path / 'images'))
    assert cfg.model.data_preprocessor.type == (
        'AnyChannelDetDataPreprocessor' if channels != 3 else
        'DetDataPreprocessor')
    cfg.train_dataloader.dataset.update(
        data_root=str(tmp_path), ann_file=ann, data_prefix=dict(img='images/'),
        metainfo=dict(classes=('a', 'b')))
    cfg.model.roi_head.bbox_head.num_classes = 2
    cfg.model.roi_head.mask_head.num_classes = 2
    step = train_step(cfg)
    check_inputs(step['inputs'], channels)
    assert {'loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_mask'} <= set(
        step['losses'])


@pytest.mark.parametrize('channels', CHANNELS)
def test_upernet_step_on_c_channel_tiffs(tmp_path, channels):
    seg_folder(str(tmp_path), channels)
    cfg = c_channel_config(SEG, channels, str(tmp_path / 'img'))
    assert not any(t['type'] == 'PhotoMetricDistortion'
                   for t in cfg.train_dataloader.dataset.pipeline)
    cfg.train_dataloader.dataset = dict(
        type='BaseSegDataset', data_root=str(tmp_path),
        data_prefix=dict(img_path='img', seg_map_path='ann'),
        img_suffix='.tif', seg_map_suffix='.png', reduce_zero_label=True,
        metainfo=dict(classes=('ground', 'thing')),
        pipeline=cfg.train_dataloader.dataset.pipeline)
    for head in ('decode_head', 'auxiliary_head'):
        cfg.model[head].num_classes = 2
    step = train_step(cfg)
    check_inputs(step['inputs'], channels)
    assert {'decode.loss_ce', 'aux.loss_ce'} <= set(step['losses'])
