"""What each image is (size as the loader gives it, channels, dtype, a
digest) and the dataset's figures for ``dataset.json``: image sizes over all
imported images, mean and std per channel over the training images.

Pixels are decoded as they are stored (OpenCV, unchanged): the dtype and the
value range are the file's (0..255 for uint8), colour channels are reordered
to RGB (the order the data preprocessors use after ``bgr_to_rgb``) and an
alpha channel is left out, as mmcv's colour loading does. ``channels`` is 1
when every image has one channel, else 3 (grey images then count as three
equal channels). The size is the one the loader sees: an EXIF orientation
that turns the image by 90 degrees swaps width and height, as OpenCV's
colour decoding (mmcv's default) applies it.
"""
import hashlib
import io
from statistics import median_low
from typing import Any, Dict, List, Sequence

import numpy as np

from .records import ImageInfo

__all__ = ['measure_image', 'dataset_figures']

#: EXIF orientations that turn the image by 90 or 270 degrees.
_TRANSPOSING = (5, 6, 7, 8)


def _exif_orientation(content: bytes) -> int:
    from PIL import Image
    try:
        with Image.open(io.BytesIO(content)) as img:
            return int(img.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001  (no EXIF is the usual case)
        return 1


def measure_image(path: str) -> ImageInfo:
    """Decode ``path`` and measure it.

    Raises:
        ValueError: OpenCV cannot decode the file.
    """
    import cv2
    with open(path, 'rb') as f:
        content = f.read()
    pixels = cv2.imdecode(np.frombuffer(content, np.uint8),
                          cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise ValueError('OpenCV cannot decode it')
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.shape[2] >= 3:
        pixels = pixels[..., 2::-1]  # BGR(A) -> RGB
    else:
        pixels = pixels[..., :1]  # grey (+ alpha) -> grey
    height, width = pixels.shape[:2]
    if _exif_orientation(content) in _TRANSPOSING:
        width, height = height, width
    flat = pixels.reshape(-1, pixels.shape[2])
    return ImageInfo(
        width=int(width), height=int(height), channels=int(flat.shape[1]),
        dtype=str(pixels.dtype),
        sums=flat.sum(0, dtype=np.float64),
        squares=np.einsum('ij,ij->j', flat, flat, dtype=np.float64),
        pixels=int(flat.shape[0]), digest=hashlib.sha1(content).hexdigest())


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
    per channel over ``train_infos``."""
    if not all_infos:
        return {'image_sizes': None, 'channels': None, 'dtype': None,
                'mean': None, 'std': None}
    channels = 1 if all(i.channels == 1 for i in all_infos) else 3
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
        mean_list = [round(float(v), 3) for v in mean]
        std_list = [round(float(v), 3) for v in std]
    else:
        mean_list = std_list = None
    return {'image_sizes': _size_figures(all_infos), 'channels': channels,
            'dtype': '|'.join(dtypes), 'mean': mean_list, 'std': std_list}
