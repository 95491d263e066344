"""UperNet with ConvNeXt V2: the configs, loss/predict of the atto model on
CPU (SyncBN reverted), stage-wise lr decay groups, and ConvNeXtV2 dropped into
mmseg's DeepLabV3."""
import glob
import os.path as osp

import pytest
import torch
from helpers.downstream import (CONFIGS, TEST_CONFIGS, assert_backbone_learns,
                                build_model, groups_by_param, load_config,
                                loss_step, seg_inputs)
from mmengine.model import revert_sync_batchnorm

from mmconvnextv2.models import ConvNeXtV2

ATTO = 'configs/upernet/upernet_convnext-v2-atto-fcmae-pre_8xb2-amp-160k_ade20k-512x512.py'  # noqa
SIZE_CONFIGS = sorted(
    glob.glob(osp.join(CONFIGS, 'upernet', 'upernet_convnext-v2-*-pre_*.py')))
CROP = (128, 128)  # test inputs; the configs' crops are 512 / 640


def _small_inputs(cfg):
    """Test speed only: train on 128x128 crops, slide with a 128 window."""
    cfg.model.data_preprocessor.size = CROP
    cfg.model.test_cfg.crop_size = CROP
    cfg.model.test_cfg.stride = (85, 85)
    return cfg


@pytest.fixture(scope='module')
def upernet():
    cfg = _small_inputs(load_config(ATTO, **{'model.backbone.init_cfg': None}))
    model = build_model(cfg)
    return cfg, revert_sync_batchnorm(model)


def test_size_configs():
    archs = {osp.basename(p).split('_')[1].split('-')[2] for p in SIZE_CONFIGS}
    assert {'atto', 'tiny', 'base', 'large', 'huge'} <= archs
    crops = set()
    for path in SIZE_CONFIGS:
        cfg = load_config(path)
        backbone = cfg.model.backbone
        setting = ConvNeXtV2.arch_settings[backbone.arch]
        assert backbone.type == 'mmpretrain.ConvNeXtV2'
        assert 'layer_scale_init_value' not in backbone
        assert tuple(backbone.out_indices) == (0, 1, 2, 3)
        assert backbone.gap_before_final_norm is False
        assert backbone.drop_path_rate == 0.4
        assert backbone.init_cfg.type == 'Pretrained'
        assert f'convnextv2_{backbone.arch}_' in backbone.init_cfg.checkpoint
        assert list(cfg.model.decode_head.in_channels) == setting['channels']
        assert cfg.model.auxiliary_head.in_channels == setting['channels'][2]
        assert cfg.model.decode_head.num_classes == 150
        assert cfg.model.decode_head.norm_cfg.type == 'SyncBN'
        assert cfg.model.test_cfg.mode == 'slide'
        wrapper = cfg.optim_wrapper
        assert wrapper.type == 'AmpOptimWrapper'
        assert wrapper.optimizer.lr == 1e-4
        assert wrapper.optimizer.weight_decay == 0.05
        assert wrapper.paramwise_cfg.decay_type == 'stage_wise'
        assert wrapper.paramwise_cfg.decay_rate == 0.9
        warmup, poly = cfg.param_scheduler
        assert warmup.type == 'LinearLR' and warmup.end == 1500
        assert poly.type == 'PolyLR' and poly.begin == 1500
        assert cfg.train_cfg.max_iters == 160000
        assert cfg.train_dataloader.batch_size == 2
        crops.add(tuple(cfg.crop_size))
    assert crops == {(512, 512), (640, 640)}


def test_upernet_loss_and_predict_on_cpu(upernet):
    _, model = upernet
    assert not any(isinstance(m, torch.nn.SyncBatchNorm)
                   for m in model.modules())
    losses = loss_step(model, seg_inputs([CROP, CROP], 150))
    assert {'decode.loss_ce', 'aux.loss_ce'} <= set(losses)
    assert_backbone_learns(model)
    model.zero_grad()

    model.eval()
    shapes = [(96, 160), (96, 160)]  # one size per batch in test mode
    data = seg_inputs(shapes, 150)
    with torch.no_grad():
        results = model(**model.data_preprocessor(data, False),
                        mode='predict')
    for result, (h, w) in zip(results, shapes):
        assert result.pred_sem_seg.data.shape == (1, h, w)
        assert result.seg_logits.data.shape == (150, h, w)
        assert int(result.pred_sem_seg.data.max()) < 150


def test_stage_wise_lr_decay_groups(upernet):
    from mmseg.engine.optimizers import LearningRateDecayOptimizerConstructor
    cfg, model = upernet
    wrapper_cfg = cfg.optim_wrapper
    constructor = LearningRateDecayOptimizerConstructor(
        dict(type='OptimWrapper', optimizer=wrapper_cfg.optimizer),
        wrapper_cfg.paramwise_cfg)
    groups = groups_by_param(constructor(model))
    params = dict(model.named_parameters())
    assert set(groups) == set(params)
    for name, group in groups.items():
        expected = 0 if params[name].ndim == 1 else 0.05
        assert group['weight_decay'] == expected, name
    for s in range(4):
        assert groups[f'backbone.stages.{s}.0.grn.gamma']['weight_decay'] == 0
        assert groups[f'backbone.stages.{s}.0.grn.beta']['weight_decay'] == 0

    base_lr, rate = 1e-4, 0.9
    num_layers = wrapper_cfg.paramwise_cfg.num_layers  # 6 for atto

    def lr(name):
        return groups[name]['lr']

    # mmseg: downsampling layers id 0, stage s id s + 1, the rest the top id
    for s in range(4):
        assert lr(f'backbone.stages.{s}.0.pointwise_conv1.weight') == \
            pytest.approx(base_lr * rate**(num_layers - s))
        assert lr(f'backbone.downsample_layers.{s}.1.bias') == pytest.approx(
            base_lr * rate**(num_layers + 1))
    assert lr('decode_head.conv_seg.weight') == pytest.approx(base_lr)
    assert lr('auxiliary_head.conv_seg.weight') == pytest.approx(base_lr)


def test_backbone_swap_deeplabv3():
    """ConvNeXtV2 replaces the dilated ResNet-50 of mmseg's DeepLabV3 by
    changing only the backbone dict and the heads' input widths."""
    cfg = load_config(
        osp.join(TEST_CONFIGS,
                 'deeplabv3_convnext-v2-atto_4xb2-40k_cityscapes-512x1024.py'))
    cfg.model.data_preprocessor.size = CROP  # test speed only
    model = revert_sync_batchnorm(build_model(cfg))
    assert isinstance(model.backbone, ConvNeXtV2)
    losses = loss_step(model, seg_inputs([CROP, CROP], 19))
    assert {'decode.loss_ce', 'aux.loss_ce'} <= set(losses)
    # stages 0-1 feed no head: only their blocks (through stage 3) learn
    assert_backbone_learns(model, unused=['norm0.', 'norm1.'])


def test_metafile():
    """The paper's four mIoUs on the size configs; the synthetic config with
    what was measured here."""
    import yaml
    with open(osp.join(CONFIGS, 'upernet', 'metafile.yml')) as f:
        models = yaml.safe_load(f)['Models']
    synthetic = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'
    assert {m['Config'] for m in models} == {
        osp.relpath(p, osp.dirname(CONFIGS)) for p in SIZE_CONFIGS} | {synthetic}
    paper = [m['Results'][0] for m in models
             if m['Results'] and m['Config'] != synthetic]
    assert sorted(r['Metrics']['mIoU'] for r in paper) == [52.1, 53.7, 55.0, 57.0]
    assert all(r['Source'] == 'paper' for r in paper)
    (measured, ) = [m['Results'][0] for m in models if m['Config'] == synthetic]
    assert measured['Source'].startswith('measured here')
    assert 0 < measured['Metrics']['mIoU'] < 100
