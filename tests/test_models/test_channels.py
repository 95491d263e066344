"""C-channel images end to end on the model side: FCMAE's patch target and
normalised-pixel loss for C channels, and training steps of FCMAE and a
classifier on 1- and 4-channel files loaded through LoadAnyImageFromFile."""
import os

import pytest
import torch
from helpers.modalities import bands_tiff, grey16_tiff, stem_learning_step
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmpretrain.registry import DATASETS, MODELS

from mmconvnextv2.datasets.channel_checks import channel_problems
from mmconvnextv2.datasets.importers.statistics import folder_figures

TINY_ARCH = dict(depths=[1, 1, 1, 1], channels=[8, 16, 24, 32])
P = 32  # the tiny backbone's total stride: FCMAE's patch size


def fcmae_cfg(channels: int, norm_pix: bool = False) -> dict:
    return dict(
        type='FCMAE', mask_ratio=0.5,
        backbone=dict(type='ConvNeXtV2', arch=TINY_ARCH,
                      in_channels=channels, gap_before_final_norm=False,
                      norm_outputs=False),
        neck=dict(type='FCMAEDecoder', embed_dims=16),
        head=dict(type='MAEPretrainHead', norm_pix=norm_pix,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2')))


def patches(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` -> ``(N, L, P*P*C)``, written out patch by patch:
    row-major patches, each its pixels row by row, channels innermost."""
    n, c, h, w = x.shape
    rows = []
    for i in range(h // P):
        for j in range(w // P):
            patch = x[:, :, i * P:(i + 1) * P, j * P:(j + 1) * P]
            rows.append(patch.permute(0, 2, 3, 1).reshape(n, -1))
    return torch.stack(rows, dim=1)


@pytest.mark.parametrize('channels', [1, 4])
def test_fcmae_target_and_loss_for_c_channels(channels):
    torch.manual_seed(0)
    model = MODELS.build(fcmae_cfg(channels, norm_pix=True))
    model.init_weights()
    assert model.neck.pred.out_channels == P * P * channels
    assert model.head.in_channels == channels
    x = torch.randn(2, channels, 64, 64, dtype=torch.float64)
    x[:, -1] = x[:, -1] * 40 + 300  # a band of another scale
    head = model.head
    assert torch.equal(head.patchify(x), patches(x))
    assert torch.equal(head.unpatchify(head.patchify(x)), x)
    # the normalised-pixel target: each patch over its P*P*C values
    target = patches(x)
    target = (target - target.mean(-1, keepdim=True)) / (
        target.var(-1, keepdim=True) + 1e-6).sqrt()
    assert torch.allclose(head.construct_target(x), target)
    model = model.double()
    out = model.reconstruct(x)
    mask = out['mask'].flatten(1).double()
    assert out['pred'].shape == (2, 4, P * P * channels)
    expected = (((out['pred'] - target) ** 2).mean(-1) * mask).sum() \
        / mask.sum()
    assert torch.allclose(head.loss(out['pred'], x, mask), expected)


def dataset_cfg(root: str, pipeline: list, labelled: bool) -> dict:
    return dict(type='CustomDataset', data_root=root, with_label=labelled,
                extensions=('.tif', ), pipeline=pipeline)


def write_frames(root: str, channels: int) -> None:
    """Two classes of two frames: 16-bit grey or float32 4-band TIFFs."""
    for label in range(2):
        folder = os.path.join(root, f'class{label}')
        os.makedirs(folder)
        for i in range(2):
            seed = 10 * label + i
            if channels == 1:
                grey16_tiff(folder, f'{i}.tif', seed=seed)
            else:
                bands_tiff(folder, f'{i}.tif', bands=channels, seed=seed)


def training_step(cfg: Config, labelled: bool) -> dict:
    """One train_step of ``cfg.model`` on a batch of its train dataset."""
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = default_collate([dataset[i] for i in range(2 if not labelled
                                                       else 4)])
    model_cfg = dict(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return dict(batch=batch, losses=stem_learning_step(model, batch))


@pytest.mark.parametrize('channels', [1, 4])
def test_fcmae_training_step_on_c_channel_files(tmp_path, channels):
    write_frames(str(tmp_path), channels)
    stats = folder_figures(str(tmp_path))
    assert stats['channels'] == channels
    load = dict(type='LoadAnyImageFromFile')
    crop = [dict(type='RandomResizedCrop', scale=64,
                 crop_ratio_range=(0.5, 1.0)),
            dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]
    if channels == 1:  # mmengine's preprocessor normalises one channel
        pipeline = [load] + crop
        preprocessor = dict(type='SelfSupDataPreprocessor',
                            mean=stats['mean'], std=stats['std'])
    else:  # ... but not four: the pipeline does
        pipeline = [load, dict(type='Normalize', mean=stats['mean'],
                               std=stats['std'], to_rgb=False)] + crop
        preprocessor = dict(type='SelfSupDataPreprocessor')
    cfg = Config(dict(
        default_scope='mmpretrain', model=fcmae_cfg(channels),
        data_preprocessor=preprocessor,
        train_dataloader=dict(dataset=dataset_cfg(str(tmp_path), pipeline,
                                                  labelled=False))))
    assert channel_problems(cfg) == []
    batch = training_step(cfg, labelled=False)['batch']
    inputs = batch['inputs'][0] if isinstance(batch['inputs'], list) \
        else batch['inputs']
    assert inputs.shape[1] == channels
    if channels == 1:  # 16-bit values reach the model unquantised
        assert inputs.dtype == torch.uint16 and inputs.int().max() > 255


@pytest.mark.parametrize('channels', [1, 4])
def test_classifier_training_step_on_c_channel_files(tmp_path, channels):
    write_frames(str(tmp_path), channels)
    stats = folder_figures(str(tmp_path))
    pipeline = [dict(type='LoadAnyImageFromFile'),
                dict(type='RandomResizedCrop', scale=64),
                dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]
    cfg = Config(dict(
        default_scope='mmpretrain',
        model=dict(type='ImageClassifier',
                   backbone=dict(type='ConvNeXtV2', arch=TINY_ARCH,
                                 in_channels=channels),
                   head=dict(type='LinearClsHead', num_classes=2,
                             in_channels=32)),
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=2,
                               mean=stats['mean'], std=stats['std']),
        train_dataloader=dict(dataset=dataset_cfg(str(tmp_path), pipeline,
                                                  labelled=True))))
    assert channel_problems(cfg) == []
    step = training_step(cfg, labelled=True)
    assert set(step['losses']) == {'loss'}
    labels = [s.gt_label.item() for s in step['batch']['data_samples']]
    assert sorted(labels) == [0, 0, 1, 1]
    assert len(stats['mean']) == len(stats['std']) == channels
