"""Loading images with an error that names the file and the dataset index.

mmcv's ``LoadImageFromFile`` stops on an undecodable image with a bare
``AssertionError`` deep in a traceback. :class:`CheckedLoadImageFromFile`
(same arguments) raises :class:`CorruptImageError` instead, naming the file
and the dataset index; the runtime puts it in place of ``LoadImageFromFile``
in every dataloader pipeline of a config.
"""
from typing import Optional

from mmcv.transforms import LoadImageFromFile
from mmcv.transforms.builder import TRANSFORMS

from ...utils.errors import reported

__all__ = ['CorruptImageError', 'CheckedLoadImageFromFile']


@reported
class CorruptImageError(ValueError):
    """An image of a dataset cannot be read or decoded."""


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` with a clear error for unreadable images."""

    def transform(self, results: dict) -> Optional[dict]:
        try:
            loaded = super().transform(results)
        except Exception as err:
            why = str(err) or type(err).__name__
            if isinstance(err, AssertionError):  # mmcv: decoding gave None
                why = 'not a decodable image (corrupt or not an image file)'
            raise CorruptImageError(
                f'cannot load image {results.get("img_path")} (dataset index '
                f'{results.get("sample_idx", "?")}): {why}') from None
        return loaded
