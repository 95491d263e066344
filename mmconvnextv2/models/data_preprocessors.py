"""Data preprocessors that normalise images of any channel count C.

mmengine's ``ImgDataPreprocessor`` family (mmpretrain's
``SelfSupDataPreprocessor``, mmdet's ``DetDataPreprocessor``) asserts that
``mean`` and ``std`` have 1 or 3 values. The classes here are those stock
classes with one change: ``mean`` and ``std`` take C values (1 to 16, one
per channel, in the order the loader gives the bands). Padding, batch
augments, the cast of uint8 / uint16 / float inputs to float32 and the
channel swap (``bgr_to_rgb``, for a ``mean`` of 3 values only) are the
stock class's. An input whose
channels are not C is refused in one line instead of being broadcast.

* ``AnyChannelSelfSupDataPreprocessor`` (mmpretrain's ``MODELS``): FCMAE;
* ``AnyChannelDetDataPreprocessor`` (mmdet's ``MODELS``): Mask R-CNN.

mmseg's ``SegDataPreProcessor`` and mmpretrain's ``ClsDataPreprocessor``
already take C values and need no replacement.
"""
from typing import Any, Optional, Sequence, Union

import torch
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.registry import MODELS as DET_MODELS
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS

__all__ = ['MAX_CHANNELS', 'AnyChannelMixin',
           'AnyChannelSelfSupDataPreprocessor',
           'AnyChannelDetDataPreprocessor', 'STOCK_REPLACEMENTS']

#: The most channels the preprocessors normalise.
MAX_CHANNELS = 16
Values = Optional[Sequence[Union[int, float]]]
_SWAPS = ('bgr_to_rgb', 'rgb_to_bgr', 'to_rgb')


class AnyChannelMixin:
    """``mean`` / ``std`` of C values for an ``ImgDataPreprocessor``
    subclass (listed before it in the bases)."""

    def __init__(self, mean: Values = None, std: Values = None,
                 **kwargs: Any) -> None:
        if (mean is None) != (std is None):
            raise ValueError(f'{type(self).__name__}: give mean and std '
                             'both, or neither')
        if mean is not None and not (
                1 <= len(mean) <= MAX_CHANNELS and len(std) == len(mean)):
            raise ValueError(
                f'{type(self).__name__}: mean has {len(mean)} and std '
                f'{len(std)} value(s); give 1 to {MAX_CHANNELS}, one per '
                'channel, as many for both')
        swaps = [k for k in _SWAPS if kwargs.get(k)]
        if mean is not None and len(mean) != 3 and swaps:
            raise ValueError(
                f'{type(self).__name__}: {swaps[0]}=True swaps channels 0 '
                f'and 2 of RGB images, but mean has {len(mean)} value(s): '
                'set it False')
        super().__init__(mean=None, std=None, **kwargs)
        self._enable_normalize = mean is not None
        if mean is not None:
            self.register_buffer('mean', torch.tensor(
                mean, dtype=torch.float32).view(-1, 1, 1), False)
            self.register_buffer('std', torch.tensor(
                std, dtype=torch.float32).view(-1, 1, 1), False)

    def _check_channels(self, inputs: Any) -> None:
        if isinstance(inputs, torch.Tensor):
            found = {inputs.shape[-3]} if inputs.dim() >= 3 else set()
        elif isinstance(inputs, (list, tuple)):
            found = set()
            for item in inputs:
                self._check_channels(item)
            return
        else:
            return
        wanted = self.mean.shape[0]
        if found and found != {wanted} and wanted != 1:
            raise ValueError(
                f'{type(self).__name__} normalises {wanted} channel(s), but '
                f'an input image has {found.pop()}: set mean and std to one '
                'value per channel of the images')

    def forward(self, data: dict, training: bool = False) -> Any:
        """Check the inputs' channels against ``mean``, then the stock
        class's forward."""
        if self._enable_normalize and isinstance(data, dict):
            self._check_channels(data.get('inputs'))
        return super().forward(data, training)


@MODELS.register_module()
class AnyChannelSelfSupDataPreprocessor(AnyChannelMixin,
                                        SelfSupDataPreprocessor):
    """mmpretrain's ``SelfSupDataPreprocessor`` with ``mean`` / ``std`` of
    C values (1 to :data:`MAX_CHANNELS`)."""


@DET_MODELS.register_module()
class AnyChannelDetDataPreprocessor(AnyChannelMixin, DetDataPreprocessor):
    """mmdet's ``DetDataPreprocessor`` with ``mean`` / ``std`` of C values
    (1 to :data:`MAX_CHANNELS`)."""


#: Stock preprocessor -> its C-channel replacement (the type name a config
#: gives; the replacement is registered in the same scope).
STOCK_REPLACEMENTS = {
    'SelfSupDataPreprocessor': 'AnyChannelSelfSupDataPreprocessor',
    'DetDataPreprocessor': 'AnyChannelDetDataPreprocessor',
}
