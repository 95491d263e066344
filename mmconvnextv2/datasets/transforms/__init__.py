"""Data transforms of ours (registered into mmcv's TRANSFORMS)."""
from .any_image import LoadAnyImageFromFile
from .draft_loading import DraftLoadImageFromFile
from .loading import CheckedLoadImageFromFile, CorruptImageError

__all__ = ['CheckedLoadImageFromFile', 'CorruptImageError',
           'DraftLoadImageFromFile', 'LoadAnyImageFromFile']
