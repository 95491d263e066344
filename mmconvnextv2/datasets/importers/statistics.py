"""What each image is (size as the loader gives it, channels, dtype, a
digest) and the dataset's figures for ``dataset.json``: image sizes over all
imported images, mean and std per channel over the training images.

Pixels are decoded as :class:`LoadAnyImageFromFile` decodes them
(:func:`decode_any_image`): the dtype and the value range are the file's
(0..255 for uint8), colour channels in RGB order (the order the data
preprocessors use after ``bgr_to_rgb``), an alpha channel left out as mmcv's
colour loading does, the bands of a TIFF or ``.npy`` file in their stored
order. ``channels`` is 1 when every image has one channel, 3 when the images
are grey or colour (grey images then count as three equal channels), else
the one band count they all share. Mean and std are rounded to 3 decimals
for integer pixels, to 6 significant digits for float ones. The size is the
one the loader sees: an EXIF orientation that turns the image by 90 degrees
swaps width and height, as OpenCV's colour decoding (mmcv's default)
applies it.
"""
import hashlib
from statistics import median_low
from typing import Any, Dict, List, Sequence

import numpy as np

from ...utils.paths import list_images
from ..transforms.any_image import ANY_IMAGE_EXTENSIONS, decode_any_image
from .records import ImageInfo

__all__ = ['measure_image', 'dataset_figures', 'folder_figures']


def measure_image(path: str) -> ImageInfo:
    """Decode ``path`` and measure it.

    Raises:
        ValueError: The file does not decode.
    """
    with open(path, 'rb') as f:
        content = f.read()
    pixels = decode_any_image(content, path)
    height, width = pixels.shape[:2]
    flat = pixels.reshape(-1, pixels.shape[2])
    return ImageInfo(
        width=int(width), height=int(height), channels=int(flat.shape[1]),
        dtype=str(pixels.dtype),
        sums=flat.sum(0, dtype=np.float64),
        squares=np.einsum('ij,ij->j', flat, flat, dtype=np.float64),
        pixels=int(flat.shape[0]), digest=hashlib.sha1(content).hexdigest())


def _channels(infos: Sequence[ImageInfo]) -> int:
    counts = sorted({info.channels for info in infos})
    if counts == [1]:
        return 1
    if set(counts) <= {1, 3}:
        return 3
    if len(counts) == 1:
        return counts[0]
    raise ValueError(f'the images have {" and ".join(map(str, counts))} '
                     'channels: one band count is needed (only grey and '
                     'colour images mix)')


def _rounded(values: np.ndarray, dtypes: Sequence[str]) -> List[float]:
    if all(np.issubdtype(np.dtype(d), np.integer) or d == 'bool'
           for d in dtypes):
        return [round(float(v), 3) for v in values]
    return [float(f'{float(v):.6g}') for v in values]


def _size_figures(infos: Sequence[ImageInfo]) -> Dict[str, List[int]]:
    widths = [info.width for info in infos]
    heights = [info.height for info in infos]
    return {'min': [min(widths), min(heights)],
            'median': [median_low(widths), median_low(heights)],
            'max': [max(widths), max(heights)]}


def dataset_figures(all_infos: Sequence[ImageInfo],
                    train_infos: Sequence[ImageInfo]) -> Dict[str, Any]:
    """``image_sizes`` (per dimension, over ``all_infos``), ``channels``,
    ``dtype`` (joined by ``|`` if the images differ) and ``mean`` / ``std``
    per channel over ``train_infos``.

    Raises:
        ValueError: The images have band counts that do not mix (other than
            grey with colour).
    """
    if not all_infos:
        return {'image_sizes': None, 'channels': None, 'dtype': None,
                'mean': None, 'std': None}
    channels = _channels(all_infos)
    dtypes = sorted({info.dtype for info in all_infos})
    sums = np.zeros(channels)
    squares = np.zeros(channels)
    count = 0
    for info in train_infos:
        sums += info.sums  # a grey image broadcasts to every channel
        squares += info.squares
        count += info.pixels
    if count:
        mean = sums / count
        std = np.sqrt(np.maximum(squares / count - mean ** 2, 0))
        mean_list = _rounded(mean, dtypes)
        std_list = _rounded(std, dtypes)
    else:
        mean_list = std_list = None
    return {'image_sizes': _size_figures(all_infos), 'channels': channels,
            'dtype': '|'.join(dtypes), 'mean': mean_list, 'std': std_list}


def folder_figures(folder: str) -> Dict[str, Any]:
    """:func:`dataset_figures` over every image (TIFF, PNG, JPEG, ``.npy``
    ...) under ``folder``, with their ``count``.

    Raises:
        FileNotFoundError: No folder, or no image in it.
        ValueError: An image does not decode (the message names it), or the
            images' band counts do not mix.
    """
    infos = []
    for path in list_images(folder, extensions=ANY_IMAGE_EXTENSIONS):
        try:
            infos.append(measure_image(path))
        except (OSError, ValueError) as err:
            raise ValueError(f'cannot read image {path}: {err}') from None
    return {'count': len(infos), **dataset_figures(infos, infos)}
