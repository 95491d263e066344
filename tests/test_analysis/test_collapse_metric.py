"""mmconvnextv2.analysis.collapse_metric: the channel distance on hand-made
activations, and the means over blocks and stages."""
import pytest
import torch

from mmconvnextv2.analysis.collapse_metric import (channel_distance,
                                                   overall_means, stage_means)


def test_identical_channels_give_zero():
    base = torch.rand(6, 5, 1) + 0.1
    x = base * torch.tensor([1., 2., 0.5, 7.])  # positive multiples: cos 1
    distance, dead = channel_distance(x)
    assert distance == pytest.approx(0., abs=1e-12)
    assert dead == 0.


@pytest.mark.parametrize('channels', [2, 8, 1000])
def test_disjoint_non_negative_channels(channels):
    """Orthogonal channels: every off-diagonal pair adds (1 - 0) / 2; the
    formula's diagonal (cos 1) adds 0, so the mean is (1 - 1/C) / 2, which
    tends to 0.5."""
    x = torch.zeros(channels, 3, channels)
    for c in range(channels):  # channel c lives on row c only
        x[c, :, c] = torch.rand(3) + 0.5
    distance, dead = channel_distance(x)
    assert distance == pytest.approx(0.5 * (1 - 1 / channels), abs=1e-12)
    assert dead == 0.
    if channels == 1000:
        assert distance == pytest.approx(0.5, abs=1e-3)


def test_dead_channels_are_counted_and_identical_to_all():
    x = torch.zeros(4, 4, 4)
    x[:2, :, 0] = 1.  # channels 0 and 1: disjoint support
    x[2:, :, 1] = 3.
    x[0, 0, 3] = 1e-9  # channel 3: below 1e-6 x the largest norm
    # channel 2 is all zero
    distance, dead = channel_distance(x)
    assert dead == 0.5
    # only the pairs (0, 1) and (1, 0) differ: 2 * 0.5 / 16
    assert distance == pytest.approx(2 * 0.5 / 16, abs=1e-12)
    # a dead channel counts as identical to every channel: replacing it by
    # any live map (cos 1 with one channel, not with the other) changes it
    alive = x.clone()
    alive[..., 2] = x[..., 0]
    assert channel_distance(alive)[0] > distance
    # all dead: all identical
    assert channel_distance(torch.zeros(3, 3, 5)) == (0., 1.)


def test_distance_is_scale_invariant_and_symmetric():
    torch.manual_seed(0)
    x = torch.randn(7, 7, 12)
    d, _ = channel_distance(x)
    assert channel_distance(x * 1e3)[0] == pytest.approx(d, rel=1e-9)
    assert channel_distance(x[..., torch.randperm(12)])[0] == \
        pytest.approx(d, rel=1e-9)
    assert 0 < d < 1


def test_stage_and_overall_means():
    blocks = [dict(stage=0, block=0, distance=.1, dead=0.),
              dict(stage=0, block=1, distance=.3, dead=.5),
              dict(stage=1, block=0, distance=.5, dead=1.)]
    assert stage_means(blocks) == [
        dict(stage=0, distance=pytest.approx(.2), dead=.25),
        dict(stage=1, distance=.5, dead=1.)]
    assert overall_means(blocks) == dict(distance=pytest.approx(.3),
                                         dead=pytest.approx(.5))
