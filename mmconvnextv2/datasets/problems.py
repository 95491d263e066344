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


def image_problem(path: str) -> Optional[str]:
    """Why the image at ``path`` cannot be used, or None. The file must
    exist and decode completely (PIL, then OpenCV as mmcv reads it)."""
    if not osp.isfile(path):
        return 'image file missing'
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
    from PIL import Image
    with Image.open(path) as img:
        return img.size  # (width, height)
