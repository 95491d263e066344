"""Mask R-CNN with ConvNeXt V2: the configs, loss/predict of the atto model,
layer-wise lr decay groups, and ConvNeXtV2 dropped into other mmdet models."""
import glob
import os.path as osp

import pytest
import torch
from helpers.downstream import (CONFIGS, TEST_CONFIGS, assert_backbone_learns,
                                build_model, groups_by_param, load_config,
                                loss_step)

from mmconvnextv2.models import ConvNeXtV2

ATTO = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto-fcmae-pre_fpn_8xb2-amp-ms-crop-3x_coco.py'  # noqa
SIZE_CONFIGS = sorted(
    glob.glob(
        osp.join(CONFIGS, 'mask_rcnn',
                 'mask-rcnn_convnext-v2-*-fcmae-pre_*.py')))
# the configs' expected init_cfg, compared as a string (nothing is downloaded)
FCMAE_URL = ('https://dl.fbaipublicfiles.com/convnext/convnextv2/pt_only/'
             'convnextv2_{}_1k_224_fcmae.pt')


def demo_inputs(num_classes: int = 80):
    from mmdet.testing import demo_mm_inputs
    return demo_mm_inputs(2, [(3, 128, 128), (3, 96, 128)], num_items=[3, 2],
                          num_classes=num_classes, with_mask=True)


@pytest.fixture(scope='module')
def mask_rcnn():
    cfg = load_config(ATTO, **{'model.backbone.init_cfg': None})
    return cfg, build_model(cfg)


def test_size_configs():
    archs = {osp.basename(p).split('_')[1].split('-')[2] for p in SIZE_CONFIGS}
    assert {'atto', 'nano', 'tiny', 'base', 'large', 'huge'} <= archs
    for path in SIZE_CONFIGS:
        cfg = load_config(path)
        backbone = cfg.model.backbone
        setting = ConvNeXtV2.arch_settings[backbone.arch]
        assert backbone.type == 'mmpretrain.ConvNeXtV2'
        assert tuple(backbone.out_indices) == (0, 1, 2, 3)
        assert backbone.gap_before_final_norm is False
        assert 'layer_scale_init_value' not in backbone  # base dict deleted
        assert backbone.init_cfg == dict(
            type='Pretrained', checkpoint=FCMAE_URL.format(backbone.arch))
        assert list(cfg.model.neck.in_channels) == setting['channels']
        assert 0.2 <= backbone.drop_path_rate <= 0.5
        assert cfg.custom_imports.imports == ['mmconvnextv2']
        wrapper = cfg.optim_wrapper
        assert wrapper.type == 'AmpOptimWrapper'
        assert wrapper.constructor == 'LearningRateDecayOptimizerConstructor'
        assert wrapper.optimizer.type == 'AdamW'
        assert wrapper.optimizer.lr == 1e-4
        assert wrapper.optimizer.weight_decay == 0.05
        paramwise = wrapper.paramwise_cfg
        assert paramwise.decay_type == 'layer_wise'
        assert paramwise.decay_rate in (0.9, 0.95)
        # mmdet numbers stage-3 blocks 3 + b // 3: the top id must cover them
        assert paramwise.num_layers == (12 if setting['depths'][2] > 9 else 6)
        assert cfg.train_cfg.max_epochs == 36  # 3x


def test_lsj_config():
    path = osp.join(
        CONFIGS, 'mask_rcnn',
        'mask-rcnn_convnext-v2-base-fcmae-pre_fpn_8xb2-amp-lsj-3x_coco.py')
    cfg = load_config(path)
    pipeline = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert 'RandomResize' in pipeline and 'RandomCrop' in pipeline
    assert cfg.model.data_preprocessor.batch_augments[0].size == (1024, 1024)
    assert cfg.model.backbone.arch == 'base'


def test_mask_rcnn_loss_and_predict(mask_rcnn):
    _, model = mask_rcnn
    losses = loss_step(model, demo_inputs())
    assert {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox',
            'loss_mask'} <= set(losses)
    assert_backbone_learns(model)
    model.zero_grad()

    model.eval()
    packed = demo_inputs()
    with torch.no_grad():
        results = model(**model.data_preprocessor(packed, False),
                        mode='predict')
    assert len(results) == 2
    for result, sample in zip(results, packed['data_samples']):
        pred = result.pred_instances
        assert pred.bboxes.shape[1] == 4
        assert len(pred.scores) == len(pred.labels) == len(pred.masks)
        assert tuple(pred.masks.shape[1:]) == tuple(sample.ori_shape)


def test_layer_wise_lr_decay_groups(mask_rcnn):
    from mmdet.engine.optimizers import LearningRateDecayOptimizerConstructor
    cfg, model = mask_rcnn
    wrapper_cfg = cfg.optim_wrapper
    constructor = LearningRateDecayOptimizerConstructor(
        dict(type='OptimWrapper', optimizer=wrapper_cfg.optimizer),
        wrapper_cfg.paramwise_cfg)
    groups = groups_by_param(constructor(model))
    assert set(groups) == {n for n, p in model.named_parameters()}
    base_lr, wd = 1e-4, 0.05
    rate = wrapper_cfg.paramwise_cfg.decay_rate  # atto: 6 ids + 2

    def lr(name):
        return groups[name]['lr']

    params = dict(model.named_parameters())
    for name, group in groups.items():
        # 1-D (GRN, LayerNorms, biases): no decay; matrices and kernels: wd
        expected = 0 if params[name].ndim == 1 else wd
        assert group['weight_decay'] == expected, name
    for s in range(4):
        assert groups[f'backbone.stages.{s}.0.grn.gamma']['weight_decay'] == 0
        assert groups[f'backbone.stages.{s}.0.grn.beta']['weight_decay'] == 0
        assert groups[f'backbone.norm{s}.weight']['weight_decay'] == 0
    block = 'backbone.stages.{}.{}.pointwise_conv1.weight'
    assert lr('backbone.downsample_layers.0.0.weight') == pytest.approx(
        base_lr * rate**7)
    assert lr(block.format(0, 0)) == pytest.approx(base_lr * rate**6)
    assert lr(block.format(1, 0)) == pytest.approx(base_lr * rate**5)
    assert lr(block.format(2, 0)) == pytest.approx(base_lr * rate**4)
    assert lr(block.format(2, 5)) == pytest.approx(base_lr * rate**3)
    assert lr(block.format(3, 1)) == pytest.approx(base_lr * rate)
    assert lr('roi_head.bbox_head.fc_cls.weight') == pytest.approx(base_lr)
    assert lr('neck.fpn_convs.0.conv.weight') == pytest.approx(base_lr)


SWAPS = {  # config, losses, backbone outputs the model does not read
    'retinanet': ('retinanet_convnext-v2-atto_fpn_1x_coco.py',
                  {'loss_cls', 'loss_bbox'}, ['norm0.']),  # FPN from stage 1
    'faster-rcnn': ('faster-rcnn_convnext-v2-atto_fpn_1x_coco.py',
                    {'loss_rpn_cls', 'loss_cls', 'loss_bbox'}, []),
    'mask2former': ('mask2former_convnext-v2-atto_8xb2-lsj-50e_coco.py',
                    {'loss_cls', 'loss_mask', 'loss_dice'}, []),
}


@pytest.mark.parametrize('name', list(SWAPS))
def test_backbone_swap(name):
    """ConvNeXtV2 replaces ResNet-50 in an upstream model by changing only
    the backbone dict and the neck's input widths (tests/data/configs)."""
    filename, expected, unused = SWAPS[name]
    cfg = load_config(osp.join(TEST_CONFIGS, filename))
    if name == 'mask2former':
        # test speed only: no padding of each batch to 1024x1024
        cfg.model.data_preprocessor.batch_augments = None
    model = build_model(cfg)
    assert isinstance(model.backbone, ConvNeXtV2)
    losses = loss_step(model, demo_inputs())
    assert expected <= set(losses)
    assert_backbone_learns(model, unused)


def test_metafile():
    """Every size config is listed with the paper's numbers (where the paper
    has them); the synthetic config with what was measured here."""
    import yaml
    with open(osp.join(CONFIGS, 'mask_rcnn', 'metafile.yml')) as f:
        models = yaml.safe_load(f)['Models']
    synthetic = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'
    listed = {m['Config'] for m in models}
    assert listed == {osp.relpath(p, osp.dirname(CONFIGS))
                      for p in SIZE_CONFIGS} | {synthetic}
    paper = {'base': (52.9, 46.6), 'large': (54.4, 47.7), 'huge': (55.7, 48.9)}
    for model in models:
        if model['Results'] is None:
            continue
        box, mask = model['Results']
        scores = (box['Metrics']['box AP'], mask['Metrics']['mask AP'])
        if model['Config'] == synthetic:
            assert box['Source'].startswith('measured here')
            assert all(0 < v < 100 for v in scores)
            continue
        arch = model['Name'].split('_')[1].split('-')[2]
        assert scores == paper[arch]
        assert box['Source'] == mask['Source'] == 'paper'
