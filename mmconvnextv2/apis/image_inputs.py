"""The images inference reads: what the model gets, and what is drawn.

A config whose test pipeline loads with ``LoadAnyImageFromFile`` (images of
C bands, 8-bit, 16-bit or float, TIFF, PNG or ``.npy``) is run by the
OpenMMLab inferencers all the same: :class:`ImageReader` takes that loader
out of the inferencer's pipeline (its place is left to a plain
``LoadImageFromFile``, which mmdet's and mmseg's inferencers turn into their
array loader and mmpretrain's leaves out), loads each image with it and
hands the inferencer the array. Any other config gets the file's path, as
before. The drawing shows the image by
:func:`~mmconvnextv2.utils.display.display_rgb`: its first three bands, or
the ``bands`` asked for, stretched to 8 bits (grey for one band); an 8-bit
RGB image is drawn as it is.
"""
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmengine.config import Config

from ..datasets.transforms.any_image import (ANY_IMAGE_EXTENSIONS,
                                             LoadAnyImageFromFile,
                                             decode_any_image)
from ..utils.display import display_bands, display_rgb
from ..utils.errors import one_line

__all__ = ['ANY_LOADER', 'take_any_loader', 'check_image', 'ImageReader']

#: The loading transform of C-channel configs.
ANY_LOADER = 'LoadAnyImageFromFile'
#: Files PIL cannot check (multi-band and float TIFFs, arrays): decoded.
_DECODED = ('.tif', '.tiff', '.npy')


def take_any_loader(cfg: Config) -> Optional[LoadAnyImageFromFile]:
    """Take ``LoadAnyImageFromFile`` out of the test pipeline of ``cfg`` (in
    place; a plain ``LoadImageFromFile`` takes its place) and return it,
    built with the config's arguments; None when the pipeline loads with
    another transform."""
    loader = cfg.get('test_dataloader') or {}
    pipeline = (loader.get('dataset') or {}).get('pipeline') or []
    for i, step in enumerate(pipeline):
        kind = step.get('type') if isinstance(step, dict) else None
        if isinstance(kind, str) and kind.split('.')[-1] == ANY_LOADER:
            args = {k: v for k, v in step.items() if k != 'type'}
            pipeline[i] = dict(type='LoadImageFromFile')
            return LoadAnyImageFromFile(**args)
    return None


def check_image(path: str) -> None:
    """Raise ``ValueError`` (one line) unless ``path`` is an image this
    package reads: PIL checks JPEG, PNG ...; TIFF and ``.npy`` files are
    decoded
    (:func:`~mmconvnextv2.datasets.transforms.any_image.decode_any_image`).
    """
    from PIL import Image, UnidentifiedImageError
    suffix = osp.splitext(path)[1].lower()
    if suffix not in ANY_IMAGE_EXTENSIONS:
        raise ValueError(f'input {path!r} is not an image (extension '
                         f'{suffix or "none"!r}; images are '
                         f'{", ".join(ANY_IMAGE_EXTENSIONS)})')
    try:
        if suffix in _DECODED:
            with open(path, 'rb') as f:
                decode_any_image(f.read(), path)
        else:
            with Image.open(path) as img:
                img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ValueError(f'input {path!r} is not a readable image: '
                         f'{one_line(err)}') from None


class ImageReader:
    """Reads an image for a config's inferencer and for its drawing.

    Args:
        cfg: The config; a ``LoadAnyImageFromFile`` of its test pipeline is
            taken out (:func:`take_any_loader`): build the inferencer after.
        channels: The model's input channels (``bands`` are checked
            against them).
        bands: Bands drawn (indices into the model's input bands, in the
            stored order): one (grey) or three (red, green, blue); default
            the first three (one for a model of fewer).

    Raises:
        ValueError: ``bands`` that are not one or three of ``channels``.
    """

    def __init__(self, cfg: Config, channels: int = 3,
                 bands: Optional[Sequence[int]] = None) -> None:
        self.loader = take_any_loader(cfg)
        self.bands = None if bands is None else display_bands(channels, bands)

    def __call__(self, path: str) -> Tuple[Union[str, np.ndarray],
                                           np.ndarray]:
        """``(what the inferencer gets, the drawing's RGB uint8 image)``."""
        if self.loader is None:
            return path, display_rgb(mmcv.imread(path, channel_order='rgb'),
                                     self.bands)
        img = self.loader(dict(img_path=path))['img']
        # the loader gives 3 bands in BGR order (as mmcv): drawn as stored
        stored = img[..., ::-1] if img.shape[2] == 3 else img
        return img, display_rgb(stored, self.bands)
