"""The same weights give the same logits in timm, Hugging Face and our
ConvNeXtV2; the raw FCMAE conversion preserves the network's function.

float32 throughout: float64 depthwise convolutions are very slow on CPU, and
the agreement (about 5e-6 on logits of order 1) is far inside the tolerance
that separates a right mapping from a wrong one.
"""
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from helpers.checkpoints import (ATTO, TINY, export_fcmae_raw, export_hf,
                                export_official, pretrained,
                                random_backbone_state)

from mmconvnextv2.checkpoint import backbone_part, convert_checkpoint
from mmconvnextv2.models import ConvNeXtV2

NUM_CLASSES = 10


@pytest.fixture(scope='module')
def official_atto(tmp_path_factory):
    """A random official-layout atto classifier checkpoint (GRN non-zero)."""
    backbone = random_backbone_state(ATTO, seed=11)
    gen = torch.Generator().manual_seed(12)
    head = OrderedDict(weight=0.1 * torch.randn(NUM_CLASSES, 320, generator=gen),
                       bias=torch.randn(NUM_CLASSES, generator=gen))
    ckpt = {'model': export_official(backbone, head)}
    assert ckpt['model']['stages.2.3.grn.beta'].abs().min() > 0
    path = tmp_path_factory.mktemp('official') / 'convnextv2_atto_1k_224_ema.pt'
    torch.save(ckpt, path)
    return path, ckpt


@pytest.fixture(scope='module')
def images():
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(13))


@pytest.fixture(scope='module')
def our_logits(official_atto, images):
    path, ckpt = official_atto
    model = pretrained('atto', path, out_indices=-1,
                       gap_before_final_norm=True)
    head = convert_checkpoint(ckpt)
    with torch.no_grad():
        feats = model(images)[-1]
        logits = F.linear(feats, head['head.fc.weight'], head['head.fc.bias'])
    return model, logits


def test_agrees_with_timm(official_atto, images, our_logits):
    timm = pytest.importorskip('timm')
    from timm.models.convnext import checkpoint_filter_fn
    _, ckpt = official_atto
    net = timm.create_model('convnextv2_atto', pretrained=False,
                            num_classes=NUM_CLASSES)
    net.load_state_dict(checkpoint_filter_fn(ckpt, net), strict=True)
    with torch.no_grad():
        expected = net.eval()(images)
    assert expected.std() > 0.1  # not a degenerate comparison
    torch.testing.assert_close(our_logits[1], expected, atol=1e-5, rtol=1e-5)


def test_agrees_with_huggingface(official_atto, images, our_logits):
    transformers = pytest.importorskip('transformers')
    model, logits = our_logits
    config = transformers.ConvNextV2Config(
        depths=ATTO['depths'], hidden_sizes=ATTO['channels'],
        num_labels=NUM_CLASSES, layer_norm_eps=1e-6)
    net = transformers.ConvNextV2ForImageClassification(config)
    head = convert_checkpoint(official_atto[1])
    head = {'weight': head['head.fc.weight'], 'bias': head['head.fc.bias']}
    net.load_state_dict(export_hf(model.state_dict(), head), strict=True)
    net.eval()
    with torch.no_grad():
        expected = net(pixel_values=images).logits
    torch.testing.assert_close(logits, expected, atol=1e-5, rtol=1e-5)


def test_fcmae_raw_round_trip(tmp_path):
    """raw -> ours: the dense network on the converted weights computes what
    it computes on the original dense weights (so every Minkowski kernel
    landed in the right orientation)."""
    dense = random_backbone_state(TINY, seed=14)
    dense = OrderedDict((k, v) for k, v in dense.items()
                        if not k.startswith('norm'))
    raw = export_fcmae_raw(dense, {})
    converted = backbone_part(convert_checkpoint({'model': raw}))
    assert converted.keys() == dense.keys()

    def run(state):
        net = ConvNeXtV2(arch=TINY, out_indices=(0, 1, 2, 3),
                         norm_outputs=False, gap_before_final_norm=False)
        net.load_state_dict(state, strict=True)
        net.eval()
        x = torch.randn(2, 3, 64, 64,
                        generator=torch.Generator().manual_seed(15))
        with torch.no_grad():
            return net(x)

    for got, want in zip(run(converted), run(dense)):
        torch.testing.assert_close(got, want, atol=0, rtol=0)
