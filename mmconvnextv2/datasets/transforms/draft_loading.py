"""Loading a JPEG at a reduced size when the random resized crop after it
shrinks the image anyway.

A 1920x1080 frame cropped to 10-100 % of its area and resized to 128 px is
decoded at full size, and most of its pixels are then thrown away by the
resize. libjpeg can decode at 1/2, 1/4 or 1/8 of the size directly
(Pillow's ``Image.draft``), skipping most of the inverse DCT and the resize
work. :class:`DraftLoadImageFromFile` does that, choosing the coarsest scale
at which even the smallest crop that the ``RandomResizedCrop`` can take still
has at least the output size in pixels, so no crop is upsampled that the
full decode would have shrunk.

It is opt-in, for label-free pipelines (FCMAE pre-training, classification):
annotations loaded after it would be in the full image's coordinates. Any
file that is not a JPEG, a ``color_type`` other than ``'color'``, a frame
too small to reduce, or a JPEG that Pillow cannot decode, is loaded in full
by :class:`CheckedLoadImageFromFile` (same arguments, same errors).
"""
import io
import math
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms.builder import TRANSFORMS
from mmengine import fileio

from .loading import CheckedLoadImageFromFile

__all__ = ['DraftLoadImageFromFile', 'draft_scale', 'DRAFT_SCALES']

#: The reductions libjpeg decodes to directly, coarsest first.
DRAFT_SCALES = (8, 4, 2, 1)

_JPEG_MAGIC = b'\xff\xd8\xff'
#: EXIF orientations that swap width and height.
_TRANSPOSED = (5, 6, 7, 8)


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """``(h, w)`` of an int or a pair (the ``scale`` of RandomResizedCrop)."""
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


def draft_scale(width: int, height: int,
                crop_size: Union[int, Sequence[int]],
                crop_ratio_range: Sequence[float],
                aspect_ratio_range: Sequence[float] = (3. / 4., 4. / 3.)
                ) -> int:
    """The coarsest of :data:`DRAFT_SCALES` at which every crop that
    mmpretrain's ``RandomResizedCrop`` can take of a ``width`` x ``height``
    image (its random crops and its central fallback) keeps at least
    ``crop_size`` (``(h, w)`` or an int) pixels in each direction."""
    out_h, out_w = _pair(crop_size)
    area = width * height
    low_area, low_ratio, high_ratio = (crop_ratio_range[0],
                                       min(aspect_ratio_range),
                                       max(aspect_ratio_range))
    # random crops: w = sqrt(a * A * r), h = sqrt(a * A / r); the fallback
    # crops the whole image, or H * r_max wide / W / r_min high
    smallest_w = min(math.sqrt(low_area * area * low_ratio), width,
                     height * high_ratio)
    smallest_h = min(math.sqrt(low_area * area / high_ratio), height,
                     width / low_ratio)
    for scale in DRAFT_SCALES:
        if smallest_w / scale >= out_w and smallest_h / scale >= out_h:
            return scale
    return 1


@TRANSFORMS.register_module()
class DraftLoadImageFromFile(CheckedLoadImageFromFile):
    """``LoadImageFromFile`` that decodes a JPEG at 1/2, 1/4 or 1/8 of its
    size when the ``RandomResizedCrop`` that follows allows it (see
    :func:`draft_scale`); give it that crop's arguments.

    Args:
        crop_size: The crop's output size (its ``scale``), int or ``(h, w)``.
        crop_ratio_range: The crop's range of area fractions.
        aspect_ratio_range: The crop's range of aspect ratios.
        **kwargs: ``LoadImageFromFile``'s arguments (``imdecode_backend``
            is used for the full decodes).

    Adds ``decode_scale`` (1, 2, 4 or 8) to the results; ``img_shape`` and
    ``ori_shape`` are the decoded image's, BGR as mmcv loads it, after the
    EXIF orientation.
    """

    def __init__(self, crop_size: Union[int, Sequence[int]],
                 crop_ratio_range: Sequence[float] = (0.08, 1.0),
                 aspect_ratio_range: Sequence[float] = (3. / 4., 4. / 3.),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.crop_size = _pair(crop_size)
        self.crop_ratio_range = tuple(crop_ratio_range)
        self.aspect_ratio_range = tuple(aspect_ratio_range)

    def _read(self, path: str) -> bytes:
        if self.file_client_args is not None:
            client = fileio.FileClient.infer_client(self.file_client_args,
                                                    path)
            return client.get(path)
        return fileio.get(path, backend_args=self.backend_args)

    def _draft_decode(self, path: str) -> Optional[Tuple[np.ndarray, int]]:
        """The reduced decode and its scale; None where the full decode
        applies (not a JPEG, no reduction, anything Pillow fails on)."""
        if self.color_type != 'color':
            return None
        from PIL import Image, ImageOps
        try:
            content = self._read(path)
            if not content.startswith(_JPEG_MAGIC):
                return None
            with Image.open(io.BytesIO(content)) as img:
                width, height = img.size
                if img.getexif().get(0x0112) in _TRANSPOSED:
                    width, height = height, width
                scale = draft_scale(width, height, self.crop_size,
                                    self.crop_ratio_range,
                                    self.aspect_ratio_range)
                if scale == 1:
                    return None
                img.draft('RGB', (img.size[0] // scale, img.size[1] // scale))
                img = ImageOps.exif_transpose(img)
                array = np.asarray(img.convert('RGB'))[:, :, ::-1]  # BGR
        except Exception:
            return None
        return array, scale

    def transform(self, results: dict) -> Optional[dict]:
        drafted = self._draft_decode(results['img_path'])
        if drafted is None:
            loaded = super().transform(results)
            if loaded is not None:
                loaded['decode_scale'] = 1
            return loaded
        img, scale = drafted
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['decode_scale'] = scale
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, '
                f'{super().__repr__().split("(", 1)[1]}')
