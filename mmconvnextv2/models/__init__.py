"""Models of mmconvnextv2, registered into mmpretrain's MODELS on import."""
from .backbones import ConvNeXtV2, ConvNeXtV2Block, dense_masked_forward
from .data_preprocessors import (AnyChannelDetDataPreprocessor,
                                 AnyChannelSelfSupDataPreprocessor)
from .layers import GRN, VisibleSet
from .necks import FCMAEDecoder
from .selfsup import FCMAE

__all__ = [
    'ConvNeXtV2', 'ConvNeXtV2Block', 'dense_masked_forward', 'GRN',
    'VisibleSet', 'FCMAEDecoder', 'FCMAE', 'AnyChannelDetDataPreprocessor',
    'AnyChannelSelfSupDataPreprocessor'
]
