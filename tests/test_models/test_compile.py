"""torch.compile of the dense backbone: one graph (no breaks), the same
feature maps as eager execution (inductor fuses and reorders the float
arithmetic, so equal within float32 rounding rather than bit for bit)."""
import shutil

import pytest
import torch

from mmconvnextv2.models import ConvNeXtV2


@pytest.mark.skipif(shutil.which('c++') is None and shutil.which('gcc') is None
                    and not torch.cuda.is_available(),
                    reason='inductor on CPU needs a C++ compiler')
def test_compiled_backbone_equals_eager():
    torch.manual_seed(0)
    model = ConvNeXtV2(dict(depths=[1, 1, 1, 1], channels=[8, 16, 32, 64]),
                       out_indices=(0, 1, 2, 3),
                       gap_before_final_norm=False).eval()
    for name, p in model.named_parameters():  # GRN non-zero: it matters
        if 'grn' in name:
            torch.nn.init.normal_(p, std=0.5)
    compiled = torch.compile(model, fullgraph=True)
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        eager_out, compiled_out = model(x), compiled(x)
    assert len(compiled_out) == 4
    for a, b in zip(eager_out, compiled_out):
        assert a.shape == b.shape
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)
