"""Loading images of any depth and band count, without loss.

mmcv's ``LoadImageFromFile`` decodes to 8-bit BGR: a 16-bit frame loses its
depth, a grey one becomes three equal channels and a 4-band TIFF does not
load. :class:`LoadAnyImageFromFile` keeps what the file holds:

* TIFF (``.tif``, ``.tiff``) through ``tifffile``: one page of one or more
  samples, or several pages of the same size (each page's bands follow the
  previous page's), in any layout (``YX``, ``YXS``, ``SYX``); reduced-size
  pages (pyramid levels) are left out. A compression that ``tifffile``
  cannot decode without the ``imagecodecs`` package (LZW, JPEG) is decoded
  by OpenCV when the file is one grey or colour page, else refused;
* ``.npy`` arrays, ``(H, W)`` or ``(H, W, C)``, read without pickle;
* any other file (PNG, JPEG, ...) through OpenCV at its stored depth
  (16-bit PNG stays 16-bit), grey as one channel, alpha left out and the
  EXIF orientation applied, as mmcv's colour decoding does.

The image comes out ``(H, W, C)`` in the dtype of the file, its bands in the
stored order, except that a 3-channel image is given in BGR order, as mmcv
gives every colour image: the stock data preprocessors' ``bgr_to_rgb=True``
then hands the model the stored order, as for JPEGs. For 8-bit RGB files the
result is what ``LoadImageFromFile`` gives. Nothing is converted to 8 bits
unless ``to_rgb8=True``.
"""
import io
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.builder import TRANSFORMS
from mmengine import fileio

from ...utils.errors import one_line
from ...utils.paths import IMAGE_EXTENSIONS
from .loading import CorruptImageError

__all__ = ['ANY_IMAGE_EXTENSIONS', 'OWN_DECODER_EXTENSIONS',
           'LoadAnyImageFromFile', 'decode_any_image', 'select_bands',
           'to_rgb8']

#: The files :func:`decode_any_image` reads (the images and ``.npy``).
ANY_IMAGE_EXTENSIONS = IMAGE_EXTENSIONS + ('.npy', )

_TIFF = ('.tif', '.tiff')
#: The files :func:`decode_any_image` reads without OpenCV (tifffile,
#: numpy): PIL and OpenCV do not read all of them (float or many bands).
OWN_DECODER_EXTENSIONS = _TIFF + ('.npy', )
_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
#: PNG colour types (IHDR) without colour: grey, grey + alpha.
_PNG_GREY = (0, 4)


def _hwc(pixels: np.ndarray, axes: str) -> np.ndarray:
    """``pixels`` with tifffile ``axes`` as ``(H, W, C)``: every axis other
    than Y and X becomes part of the channels."""
    order = [axes.index('Y'), axes.index('X')] + [
        i for i, axis in enumerate(axes) if axis not in 'YX']
    pixels = np.transpose(pixels, order)
    return pixels.reshape(pixels.shape[0], pixels.shape[1], -1)


def _tiff_pixels(content: bytes) -> np.ndarray:
    import tifffile
    with tifffile.TiffFile(io.BytesIO(content)) as tif:
        tif.pages.useframes = False  # full pages: each knows its axes
        pages = [page for page in tif.pages if not page.is_reduced]
        if not pages:
            raise ValueError('the TIFF file holds no image page')
        try:
            bands = [_hwc(page.asarray(), page.axes) for page in pages]
        except ValueError as err:
            if 'imagecodecs' not in str(err):
                raise
            if len(pages) > 1 or pages[0].samplesperpixel - len(
                    pages[0].extrasamples) not in (1, 3):
                raise ValueError(
                    f'{err} (pip install imagecodecs) for a multi-page or '
                    'multi-band TIFF') from None
            return _opencv_pixels(content)
    sizes = {band.shape[:2] for band in bands}
    if len(sizes) > 1:
        raise ValueError(f'its TIFF pages differ in size: {sorted(sizes)}')
    dtypes = {band.dtype for band in bands}
    if len(dtypes) > 1:
        raise ValueError('its TIFF pages differ in dtype: '
                         f'{sorted(map(str, dtypes))}')
    return np.ascontiguousarray(np.concatenate(bands, axis=2))


def _npy_pixels(content: bytes) -> np.ndarray:
    pixels = np.load(io.BytesIO(content), allow_pickle=False)
    if pixels.ndim not in (2, 3):
        raise ValueError(f'a .npy image must be (H, W) or (H, W, C), this '
                         f'array is {pixels.shape}')
    return pixels if pixels.ndim == 3 else pixels[..., None]


def _opencv_pixels(content: bytes) -> np.ndarray:
    import cv2
    pixels = cv2.imdecode(np.frombuffer(content, np.uint8),
                          cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if pixels is None:
        raise ValueError('not a decodable image (corrupt or not an image '
                         'file)')
    if pixels.ndim == 2:
        return pixels[..., None]
    if content.startswith(_PNG_MAGIC) and len(content) > 25 and \
            content[25] in _PNG_GREY:
        return pixels[..., :1]  # grey + alpha, decoded as three equal bands
    return np.ascontiguousarray(pixels[..., ::-1])  # BGR -> stored RGB


def decode_any_image(content: bytes, name: str) -> np.ndarray:
    """The pixels of an image file's ``content``, ``(H, W, C)``, in the
    file's dtype (native byte order) and stored band order (RGB for colour
    PNG / JPEG); ``name`` (the file's name) tells TIFF and ``.npy`` apart.

    Raises:
        ValueError: The content does not decode (one line, why).
    """
    suffix = osp.splitext(name)[1].lower()
    if suffix in _TIFF:
        pixels = _tiff_pixels(content)
    elif suffix == '.npy':
        pixels = _npy_pixels(content)
    else:
        return _opencv_pixels(content)
    if not pixels.dtype.isnative:  # big-endian files: torch takes native
        pixels = pixels.astype(pixels.dtype.newbyteorder('='))
    return pixels


def select_bands(pixels: np.ndarray,
                 channels: Optional[Sequence[int]]) -> np.ndarray:
    """The bands ``channels`` (indices in the stored order) of ``(H, W, C)``
    ``pixels``, all of them when None.

    Raises:
        ValueError: An index is out of range for the image's bands.
    """
    if channels is None:
        return pixels
    count = pixels.shape[2]
    wrong = [i for i in channels if not -count <= i < count]
    if wrong:
        raise ValueError(f'channels {list(channels)} asked, the image has '
                         f'{count} channel(s)')
    return np.ascontiguousarray(pixels[..., list(channels)])


def to_rgb8(pixels: np.ndarray) -> np.ndarray:
    """``(H, W, C)`` pixels as 8-bit RGB: one band repeated three times, or
    the first three bands; 16-bit values shifted right by 8 (as OpenCV's
    8-bit decoding of a 16-bit PNG), other integers scaled from their
    dtype's range, floats taken as 0..1.

    Raises:
        ValueError: The image has two bands (neither grey nor colour).
    """
    count = pixels.shape[2]
    if count == 2:
        raise ValueError('to_rgb8 needs 1 or at least 3 channels, the image '
                         'has 2')
    pixels = np.repeat(pixels, 3, axis=2) if count == 1 else pixels[..., :3]
    if pixels.dtype == np.uint8:
        return np.ascontiguousarray(pixels)
    if pixels.dtype == np.uint16:
        return (pixels >> 8).astype(np.uint8)
    if pixels.dtype == np.bool_:
        return pixels.astype(np.uint8) * 255
    if np.issubdtype(pixels.dtype, np.integer):
        top = float(np.iinfo(pixels.dtype).max)
        scaled = np.clip(pixels, 0, None) / top * 255
    else:
        scaled = np.clip(np.nan_to_num(pixels), 0, 1) * 255
    return np.round(scaled).astype(np.uint8)


@TRANSFORMS.register_module()
class LoadAnyImageFromFile(BaseTransform):
    """Load an image of any depth and band count (see the module doc).

    Sets ``img`` (``(H, W, C)``, the file's dtype; 3 channels in BGR order),
    ``img_shape`` and ``ori_shape``, as mmcv's ``LoadImageFromFile``.

    Args:
        channels: Keep these bands (indices in the stored order) in this
            order; None keeps all.
        to_rgb8: Convert to 8-bit 3-channel BGR, as the stock loading gives
            (see :func:`to_rgb8`).
        to_float32: Cast the pixels to float32.
        ignore_empty: Return None for a missing file instead of raising.
        backend_args: mmengine file backend arguments.

    Raises:
        CorruptImageError: A file that cannot be read or decoded, or lacks
            a band asked for: one line naming it and the dataset index.
    """

    def __init__(self,
                 channels: Optional[Sequence[int]] = None,
                 to_rgb8: bool = False,
                 to_float32: bool = False,
                 ignore_empty: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        if channels is not None and (not channels or not all(
                isinstance(i, int) for i in channels)):
            raise ValueError('channels must be a non-empty list of band '
                             f'indices, got {channels!r}')
        self.channels: Optional[List[int]] = None if channels is None \
            else list(channels)
        self.to_rgb8 = to_rgb8
        self.to_float32 = to_float32
        self.ignore_empty = ignore_empty
        self.backend_args = None if backend_args is None \
            else dict(backend_args)

    def _pixels(self, path: str) -> np.ndarray:
        content = fileio.get(path, backend_args=self.backend_args)
        pixels = select_bands(decode_any_image(content, path), self.channels)
        if self.to_rgb8:
            return to_rgb8(pixels)[..., ::-1]
        if pixels.shape[2] == 3:
            return pixels[..., ::-1]  # BGR, as mmcv gives colour images
        return pixels

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        try:
            img = self._pixels(path)
        except FileNotFoundError:
            if self.ignore_empty:
                return None
            why = 'no such file'
        except Exception as err:  # noqa: BLE001  (each decoder has its own)
            why = one_line(err)
        else:
            img = np.ascontiguousarray(img)
            if self.to_float32:
                img = img.astype(np.float32)
            results.update(img=img, img_shape=img.shape[:2],
                           ori_shape=img.shape[:2])
            return results
        raise CorruptImageError(
            f'cannot load image {path} (dataset index '
            f'{results.get("sample_idx", "?")}): {why}')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(channels={self.channels}, '
                f'to_rgb8={self.to_rgb8}, to_float32={self.to_float32}, '
                f'ignore_empty={self.ignore_empty}, '
                f'backend_args={self.backend_args})')
