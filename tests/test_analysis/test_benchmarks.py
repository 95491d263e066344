"""mmconvnextv2.analysis.benchmarks: widths from the backbone's arch table,
the bytes saved for backward."""
import torch

from mmconvnextv2.analysis.benchmarks import encoder_width, saved_bytes


def test_encoder_width_reads_the_arch_table():
    widths = {'atto': 320, 'femto': 384, 'pico': 512, 'nano': 640,
              'tiny': 768, 'base': 1024, 'large': 1536, 'huge': 2816}
    assert {arch: encoder_width(arch) for arch in widths} == widths


def test_saved_bytes_counts_each_storage_once():
    x = torch.randn(256, requires_grad=True)
    assert saved_bytes(lambda: (x * x).sum()) == 256 * 4
