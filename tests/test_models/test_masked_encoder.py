"""The sparse (masked) path of ConvNeXtV2 equals sparse-convolution semantics."""
import pytest
import torch

from mmconvnextv2.models import GRN, ConvNeXtV2, dense_masked_forward

TINY_ARCH = dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32])


def random_model(**kwargs) -> ConvNeXtV2:
    """A model whose GRN, LayerScale (V1) and norms are not at their init."""
    torch.manual_seed(0)
    model = ConvNeXtV2(arch=TINY_ARCH, **kwargs)
    model.init_weights()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'grn' in name or 'norm' in name or name.endswith(
                    ('bias', 'gamma')):
                p.normal_(std=0.5)
    return model.double()


def random_mask(n: int, h: int, w: int, ratio: float = 0.6) -> torch.Tensor:
    keep = int(h * w * (1 - ratio))
    order = torch.rand(n, h * w).argsort(1)
    mask = torch.ones(n, h * w, dtype=torch.bool)
    mask.scatter_(1, order[:, :keep], False)
    return mask.view(n, h, w)


@pytest.mark.parametrize('block_type', ['v2', 'v1'])
@pytest.mark.parametrize('gap', [False, True])
def test_sparse_equals_dense_masked_reference(gap, block_type):
    model = random_model(out_indices=(0, 1, 2, 3), gap_before_final_norm=gap,
                         block_type=block_type)
    if block_type == 'v1':  # the V1 option really is on the masked path
        assert model.stages[0][0].gamma is not None
        assert not any('grn' in n for n, _ in model.named_parameters())
    torch.manual_seed(1)
    x = torch.randn(3, 3, 128, 96, dtype=torch.float64)
    mask = random_mask(3, 4, 3)
    sparse = model(x, mask=mask)
    dense = dense_masked_forward(model, x, mask)
    for s, d in zip(sparse, dense):
        assert s.shape == d.shape
        assert torch.allclose(s, d, atol=1e-10)
    if not gap:
        hidden = mask.repeat_interleave(4, 1).repeat_interleave(4, 2)
        assert (sparse[-1].permute(0, 2, 3, 1)[mask] == 0).all()
        assert (sparse[0].permute(0, 2, 3, 1)[hidden.repeat_interleave(
            2, 1).repeat_interleave(2, 2)] == 0).all()


@pytest.mark.parametrize('in_channels', [1, 4])
def test_sparse_exact_for_other_channel_counts(in_channels):
    """C = 1 and C = 4 images: outputs and gradients (the stem's included)
    of the sparse path equal the dense masked reference."""
    model = random_model(in_channels=in_channels, out_indices=(0, 1, 2, 3),
                         gap_before_final_norm=False)
    assert model.downsample_layers[0][0].weight.shape[1] == in_channels
    torch.manual_seed(2)
    x = torch.randn(2, in_channels, 96, 64, dtype=torch.float64)
    mask = random_mask(2, 3, 2, ratio=0.5)
    grads = []
    for forward in (lambda: model(x, mask=mask),
                    lambda: dense_masked_forward(model, x, mask)):
        model.zero_grad()
        outs = forward()
        sum(o.square().sum() for o in outs).backward()
        grads.append((outs, {n: p.grad.clone()
                             for n, p in model.named_parameters()}))
    (sparse, sparse_grads), (dense, dense_grads) = grads
    for s, d in zip(sparse, dense):
        assert s.shape == d.shape and torch.allclose(s, d, atol=1e-10)
    assert (sparse[-1].permute(0, 2, 3, 1)[mask] == 0).all()
    for name, g in sparse_grads.items():
        assert torch.allclose(g, dense_grads[name], atol=1e-9), name
    assert sparse_grads['downsample_layers.0.0.weight'].abs().sum() > 0


@pytest.mark.parametrize('block_type', ['v2', 'v1'])
def test_sparse_gradients_equal_reference(block_type):
    model = random_model(out_indices=(3, ), gap_before_final_norm=False,
                         block_type=block_type)
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    mask = random_mask(2, 2, 2, ratio=0.5)
    weight = torch.randn(2, 32, 2, 2, dtype=torch.float64)
    grads = []
    for forward in (lambda: model(x, mask=mask), lambda: dense_masked_forward(
            model, x, mask)):
        model.zero_grad()
        (forward()[0] * weight).sum().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    for name, g in grads[0].items():
        assert torch.allclose(g, grads[1][name], atol=1e-9), name


@pytest.mark.parametrize('block_type', ['v2', 'v1'])
def test_masked_pixels_never_leak(block_type):
    model = random_model(out_indices=(0, 3), gap_before_final_norm=False,
                         block_type=block_type)
    x = torch.randn(2, 3, 96, 96, dtype=torch.float64)
    mask = random_mask(2, 3, 3)
    pixel_mask = mask.repeat_interleave(32, 1).repeat_interleave(32, 2)
    noisy = torch.where(pixel_mask[:, None], 100 * torch.randn_like(x), x)
    for a, b in zip(model(x, mask=mask), model(noisy, mask=mask)):
        assert torch.allclose(a, b, atol=1e-10)
    # the dense path does see them (so the test above can fail)
    assert not torch.allclose(model(x)[1], model(noisy)[1])


def test_grn_is_per_sample_not_batch_wide():
    """Sample 1's output must not depend on sample 0 (the official sparse GRN
    normalises over the whole batch, which this catches)."""
    model = random_model(out_indices=(3, ), gap_before_final_norm=False)
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    mask = random_mask(2, 2, 2, ratio=0.5)
    louder = x.clone()
    louder[0] *= 50
    a, b = model(x, mask=mask)[0], model(louder, mask=mask)[0]
    assert torch.allclose(a[1], b[1], atol=1e-10)
    # and at layer level: packed GRN differs from a batch-wide reduction
    grn = GRN(4).double()
    grn.gamma.data.fill_(1.)
    packed = torch.randn(2, 5, 4, dtype=torch.float64)
    packed[0] *= 10
    g = packed.pow(2).sum(dim=(0, 1), keepdim=True).sqrt()
    batch_wide = packed * (g / (g.mean(-1, keepdim=True) + 1e-6)) + packed
    assert not torch.allclose(grn(packed), batch_wide)
    per_sample = torch.cat([grn(packed[i:i + 1]) for i in range(2)])
    assert torch.allclose(grn(packed), per_sample)


def test_bad_masks_are_named():
    model = random_model()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with pytest.raises(ValueError, match='70x64 is not divisible by the patch size 32'):
        model(torch.randn(2, 3, 70, 64), mask=torch.zeros(2, 2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r'mask shape \(2, 4, 4\)'):
        model(x, mask=torch.zeros(2, 4, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match='bool'):
        model(x, mask=torch.zeros(2, 2, 2))
    uneven = torch.tensor([[[True, False], [False, False]],
                           [[True, True], [False, False]]])
    with pytest.raises(ValueError, match='same number of visible'):
        model(x, mask=uneven)
