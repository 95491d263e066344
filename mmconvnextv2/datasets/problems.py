"""What the dataset checks report: the errors of the quick check of a config,
the problems of the thorough pre-flight, and why an image file is unusable."""
import os.path as osp
from typing import NamedTuple, Optional, Tuple

from ..utils.errors import reported

__all__ = ['DatasetConfigError', 'DatasetFileNotFoundError', 'DatasetProblem',
           'image_problem', 'image_size']


@reported
class DatasetConfigError(ValueError):
    """A dataset of the config cannot be read as configured."""


class DatasetFileNotFoundError(DatasetConfigError, FileNotFoundError):
    """An annotation file or data folder of the config does not exist."""


class DatasetProblem(NamedTuple):
    """One problem found by :func:`find_dataset_problems`."""
    file: str   #: the file at fault
    what: str   #: what is wrong
    where: str  #: the dataloader and the entry (image / annotation / index)

    def __str__(self) -> str:
        return f'{self.file}: {self.what} [{self.where}]'


def _own_decoder(path: str) -> bool:
    from .transforms.any_image import OWN_DECODER_EXTENSIONS
    return osp.splitext(path)[1].lower() in OWN_DECODER_EXTENSIONS


def _decoded_any(path: str):
    from .transforms.any_image import decode_any_image
    with open(path, 'rb') as f:
        return decode_any_image(f.read(), path)


def image_problem(path: str) -> Optional[str]:
    """Why the image at ``path`` cannot be used, or None. The file must
    exist and decode completely (PIL, then OpenCV as mmcv reads it; TIFF
    and ``.npy`` files as ``LoadAnyImageFromFile`` reads them: they may
    hold float or many bands)."""
    if not osp.isfile(path):
        return 'image file missing'
    if _own_decoder(path):
        try:
            _decoded_any(path)
        except (OSError, ValueError) as err:
            return f'image does not decode: {err}'
        return None
    try:
        from PIL import Image
        with Image.open(path) as img:
            img.load()
    except Exception as err:  # PIL raises many types for bad files
        return f'image does not decode: {err}'
    import cv2
    import numpy as np
    data = np.fromfile(path, dtype=np.uint8)
    if cv2.imdecode(data, cv2.IMREAD_UNCHANGED) is None:
        return 'image does not decode (OpenCV)'
    return None


def image_size(path: str) -> Tuple[int, int]:
    """``(width, height)`` of the image at ``path``."""
    if _own_decoder(path):
        height, width = _decoded_any(path).shape[:2]
        return width, height
    from PIL import Image
    with Image.open(path) as img:
        return img.size  # (width, height)
