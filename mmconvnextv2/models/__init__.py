"""Models of mmconvnextv2, registered into mmpretrain's MODELS on import."""
from .backbones import ConvNeXtV2, ConvNeXtV2Block
from .layers import GRN, VisibleSet

__all__ = ['ConvNeXtV2', 'ConvNeXtV2Block', 'GRN', 'VisibleSet']
