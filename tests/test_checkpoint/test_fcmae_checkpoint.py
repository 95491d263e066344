"""FCMAE models load official raw training files (with decoder) and
encoder-only files; a decoder of another shape or a missing one is named."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger
from mmpretrain.registry import MODELS

from helpers.checkpoints import TINY, export_fcmae_raw, export_official, randomize_


def fcmae(checkpoint=None, embed_dims=16):
    init_cfg = dict(type='Pretrained', checkpoint=checkpoint) if checkpoint else None
    model = MODELS.build(dict(
        type='FCMAE',
        backbone=dict(type='ConvNeXtV2', arch=TINY, gap_before_final_norm=False,
                      norm_outputs=False),
        neck=dict(type='FCMAEDecoder', in_channels=64, embed_dims=embed_dims),
        head=dict(type='MAEPretrainHead', patch_size=32,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2')),
        init_cfg=init_cfg))
    return model


def trained_state():
    """A 'trained' FCMAE: random values everywhere, GRN included."""
    model = fcmae()
    randomize_(model.state_dict().items(), seed=1)
    return model


def split(state):
    backbone = {k[9:]: v for k, v in state.items() if k.startswith('backbone.')}
    neck = {k[5:]: v for k, v in state.items() if k.startswith('neck.')}
    return backbone, neck


def test_raw_official_round_trip(tmp_path):
    source = trained_state()
    backbone, neck = split(source.state_dict())
    path = tmp_path / 'checkpoint-799.pth'
    torch.save({'model': export_fcmae_raw(backbone, neck), 'epoch': 799}, path)
    loaded = fcmae(str(path))
    loaded.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    x = torch.randn(2, 3, 64, 64)
    torch.manual_seed(0)
    a = source.loss(x, [])['loss']
    torch.manual_seed(0)
    assert torch.equal(a, loaded.loss(x, [])['loss'])


class Collect(logging.Handler):
    """Keeps the messages of MMLogger (which does not propagate to root)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_encoder_only_file_reports_missing_decoder(tmp_path):
    source = trained_state()
    backbone, _ = split(source.state_dict())
    path = tmp_path / 'convnextv2_custom_1k_224_fcmae.pt'
    torch.save({'model': export_official(backbone)}, path)
    model = fcmae(str(path))
    logger = MMLogger.get_current_instance()
    handler = Collect()
    logger.addHandler(handler)
    try:
        model.init_weights()
    finally:
        logger.removeHandler(handler)
    assert any('has no FCMAE decoder' in m for m in handler.messages)
    assert torch.equal(model.backbone.stages[2][1].grn.gamma,
                       source.backbone.stages[2][1].grn.gamma)


def test_decoder_width_mismatch_is_named(tmp_path):
    backbone, neck = split(trained_state().state_dict())
    path = tmp_path / 'raw.pth'
    torch.save({'model': export_fcmae_raw(backbone, neck)}, path)
    model = fcmae(str(path), embed_dims=24)
    with pytest.raises(ValueError, match='decoder with width 16, but the model'):
        model.init_weights()
