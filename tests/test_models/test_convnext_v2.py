"""ConvNeXtV2 backbone: archs, outputs, freezing, checkpointing, GRN, layer ids."""
import pytest
import torch

from mmconvnextv2.models import GRN, ConvNeXtV2

TINY_ARCH = dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32])


def test_unknown_arch_is_named():
    with pytest.raises(ValueError, match="'small'"):
        ConvNeXtV2(arch='small')
    with pytest.raises(ValueError, match='depths'):
        ConvNeXtV2(arch=dict(depths=[1, 2], channels=[8]))


@pytest.mark.parametrize('arch', list(ConvNeXtV2.arch_settings))
def test_every_arch_output_shapes(arch):
    setting = ConvNeXtV2.arch_settings[arch]
    with torch.device('meta'):  # shapes only: huge has 660M parameters
        model = ConvNeXtV2(arch=arch, out_indices=(0, 1, 2, 3),
                           gap_before_final_norm=False)
        outs = model(torch.empty(2, 3, 64, 64))
    assert [o.shape for o in outs] == [
        (2, c, 16 // 2**i, 16 // 2**i) for i, c in enumerate(setting['channels'])
    ]
    assert [len(s) for s in model.stages] == setting['depths']


def test_param_count_matches_paper():
    # the paper's 3.7M for atto includes the 1000-class head (320*1000+1000)
    model = ConvNeXtV2(arch='atto')
    params = sum(p.numel() for p in model.parameters()) + 321_000
    assert abs(params / 1e6 - 3.7) < 0.05


def test_out_indices_negative_and_not_mutated():
    requested = [-1, 1]
    model = ConvNeXtV2(arch=TINY_ARCH, out_indices=requested)
    assert requested == [-1, 1]
    assert model.out_indices == (1, 3)
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape for o in outs] == [(1, 16), (1, 32)]
    with pytest.raises(ValueError, match='out of range'):
        ConvNeXtV2(arch=TINY_ARCH, out_indices=[4])


def test_frozen_stages_really_frozen():
    model = ConvNeXtV2(arch=TINY_ARCH, frozen_stages=2, out_indices=(0, 1, 2, 3),
                       gap_before_final_norm=False)
    model.init_weights()
    model.train()
    frozen = [model.downsample_layers[0], model.downsample_layers[1],
              model.stages[0], model.stages[1], model.norm0, model.norm1]
    for module in frozen:
        assert not module.training
        assert all(not p.requires_grad for p in module.parameters())
    assert model.stages[2].training and model.norm2.weight.requires_grad
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1)
    sum(o.sum() for o in model(torch.rand(2, 3, 64, 64))).backward()
    opt.step()
    after = model.state_dict()
    assert torch.equal(before['stages.1.0.pointwise_conv1.weight'],
                       after['stages.1.0.pointwise_conv1.weight'])
    assert torch.equal(before['norm1.weight'], after['norm1.weight'])
    assert not torch.equal(before['stages.2.0.pointwise_conv1.weight'],
                           after['stages.2.0.pointwise_conv1.weight'])


def test_with_cp_same_outputs_and_gradients():
    torch.manual_seed(0)
    plain = ConvNeXtV2(arch=TINY_ARCH, out_indices=(1, 3),
                       gap_before_final_norm=False)
    plain.init_weights()
    cp = ConvNeXtV2(arch=TINY_ARCH, out_indices=(1, 3), with_cp=True,
                    gap_before_final_norm=False)
    cp.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 64, 64)
    for model in (plain, cp):
        sum((o**2).sum() for o in model(x)).backward()
    for (name, p), q in zip(plain.named_parameters(), cp.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-6), name
    assert all(torch.equal(a, b) for a, b in zip(plain(x), cp(x)))


def test_grn_against_formula():
    torch.manual_seed(0)
    grn = GRN(6)
    grn.gamma.data.normal_()
    grn.beta.data.normal_()
    x = torch.randn(3, 5, 4, 6, dtype=torch.float64)
    g = (x**2).sum(dim=(1, 2), keepdim=True).sqrt()
    n = g / (g.mean(dim=-1, keepdim=True) + 1e-6)
    expected = grn.gamma.double() * (x * n) + grn.beta.double() + x
    assert torch.allclose(grn.double()(x), expected)
    assert grn.gamma.dim() == grn.beta.dim() == 1
    # zero init: identity
    assert torch.equal(GRN(6)(x.float()), x.float())


def test_classifier_output_is_normed_gap():
    model = ConvNeXtV2(arch=TINY_ARCH)
    model.init_weights()
    (out, ) = model(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 32)
    assert torch.allclose(out.mean(-1), torch.zeros(2), atol=1e-5)


def test_layer_depth_group_and_single():
    group = ConvNeXtV2(arch='base')
    assert group.get_layer_depth('backbone.downsample_layers.0.0.weight',
                                 'backbone.') == (0, 14)
    assert group.get_layer_depth('backbone.stages.2.26.grn.gamma',
                                 'backbone.') == (3 + 26 // 3, 14)
    assert group.get_layer_depth('backbone.stages.3.0.norm.weight',
                                 'backbone.') == (12, 14)
    assert group.get_layer_depth('head.fc.weight', 'backbone.') == (13, 14)
    assert ConvNeXtV2(arch='atto').get_layer_depth('stages.3.1.norm.bias') == (6, 8)
    single = ConvNeXtV2(arch='tiny', layer_decay_type='single')
    assert single.get_layer_depth('stages.2.4.grn.beta') == (3 + 3 + 4 + 1, 20)
    assert single.get_layer_depth('downsample_layers.1.1.weight') == (4, 20)
    assert single.get_layer_depth('norm3.weight') == (19, 20)
