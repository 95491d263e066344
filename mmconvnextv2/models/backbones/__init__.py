from .convnext_v2 import ConvNeXtV2, ConvNeXtV2Block
from .masked_reference import dense_masked_forward

__all__ = ['ConvNeXtV2', 'ConvNeXtV2Block', 'dense_masked_forward']
