"""The FCMAE FLOP limit against the paper's dense FLOPs and hand counts."""
import pytest

from mmconvnextv2.analysis.fcmae_flops import encoder_macs, fcmae_flop_limit
from mmconvnextv2.models.backbones.convnext_v2 import ConvNeXtV2


@pytest.mark.parametrize('arch, gflops', [('atto', 0.55), ('tiny', 4.47),
                                          ('base', 15.4)])
def test_dense_encoder_matches_the_papers_flops(arch, gflops):
    # the paper's FLOPs are multiply-adds of the classifier at 224 px; the
    # encoder is all of it but the head and the norms (within 3 %)
    s = ConvNeXtV2.arch_settings[arch]
    macs = encoder_macs(s['depths'], s['channels'], 224) / 1e9
    assert macs == pytest.approx(gflops, rel=0.03)


def test_keep_scales_only_the_pointwise_work():
    one = encoder_macs([1], [8], 32, keep=1.)
    none = encoder_macs([1], [8], 32, keep=0.)
    assert none == 48 * 8 * 64 + 49 * 8 * 64  # stem + depthwise
    assert one - none == 8 * 8 * 8 * 64  # the MLP on every position


def test_limit_grows_with_the_mask_and_the_width():
    low = fcmae_flop_limit('base', mask_ratio=0.3)['flop_limit']
    paper = fcmae_flop_limit('base')
    assert 1 < low < paper['flop_limit'] < 1 / 0.4
    assert paper['dense_gmacs'] > paper['sparse_gmacs']
    assert fcmae_flop_limit('atto')['flop_limit'] < paper['flop_limit']
