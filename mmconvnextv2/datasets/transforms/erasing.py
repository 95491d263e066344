"""Random erasing for images of any channel count and dtype.

mmpretrain's ``RandomErasing`` fills its patch with three 8-bit values.
:class:`AnyChannelRandomErasing` draws the same patches (its parent's
``random_patch`` and ``transform``) and fills them in the image's own
channels and dtype: ``mode='const'`` with ``fill_color``; ``'rand'`` with
a normal draw around ``fill_color`` of spread ``fill_std`` or, without
``fill_std``, a uniform draw over the image's own range. Integer images
are clipped to their dtype's range.
:func:`~mmconvnextv2.datasets.channel_configs.set_image_channels` puts it
in place of ``RandomErasing`` with the images' means and stds.
"""
from numbers import Number
from typing import List, Optional, Sequence, Union

import numpy as np
from mmcv.transforms.builder import TRANSFORMS
from mmpretrain.datasets.transforms import RandomErasing

__all__ = ['AnyChannelRandomErasing']

Values = Union[float, Sequence[float]]


def _values(value: Optional[Values], name: str) -> Optional[List[float]]:
    if value is None:
        return None
    values = [value] if isinstance(value, Number) else list(value)
    if not values or not all(isinstance(v, Number) for v in values):
        raise ValueError(f'AnyChannelRandomErasing: {name} must be a number '
                         f'or one number per channel, got {value!r}')
    return [float(v) for v in values]


@TRANSFORMS.register_module()
class AnyChannelRandomErasing(RandomErasing):
    """``RandomErasing`` filling in C channels of any dtype (module doc).

    Args:
        fill_color: One value, or one per channel (the images' units).
        fill_std: One value, or one per channel; None: uniform (``'rand'``).
        **kwargs: ``erase_prob``, ``min_area_ratio``, ``max_area_ratio``,
            ``aspect_range`` and ``mode`` of ``RandomErasing``.
    """

    def __init__(self, fill_color: Values = 128.,
                 fill_std: Optional[Values] = None, **kwargs) -> None:
        super().__init__(**kwargs)  # checks the other arguments
        self.fill_color = _values(fill_color, 'fill_color')
        self.fill_std = _values(fill_std, 'fill_std')

    def _per_channel(self, values: List[float], channels: int,
                     name: str) -> np.ndarray:
        if len(values) not in (1, channels):
            raise ValueError(f'AnyChannelRandomErasing: {len(values)} '
                             f'{name} values for an image of {channels} '
                             'channel(s)')
        return np.broadcast_to(np.asarray(values, np.float64), (channels,))

    def _fill_pixels(self, img: np.ndarray, top: int, left: int, h: int,
                     w: int) -> np.ndarray:
        """Fill ``img[top:top+h, left:left+w]`` (H x W or H x W x C)."""
        channels = 1 if img.ndim == 2 else img.shape[2]
        shape = (h, w) if img.ndim == 2 else (h, w, channels)
        if self.mode == 'const':
            patch = np.broadcast_to(self._per_channel(
                self.fill_color, channels, 'fill_color'), (h, w, channels))
        elif self.fill_std is None:
            low, high = float(img.min()), float(img.max())
            patch = np.random.uniform(low, high, (h, w, channels))
        else:
            patch = np.random.normal(
                self._per_channel(self.fill_color, channels, 'fill_color'),
                self._per_channel(self.fill_std, channels, 'fill_std'),
                (h, w, channels))
        if np.issubdtype(img.dtype, np.integer):
            info = np.iinfo(img.dtype)
            patch = np.clip(np.rint(patch), info.min, info.max)
        img[top:top + h, left:left + w] = patch.reshape(shape).astype(
            img.dtype)
        return img
