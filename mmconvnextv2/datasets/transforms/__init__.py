"""Data transforms of ours (registered into mmcv's TRANSFORMS)."""
from .any_image import LoadAnyImageFromFile
from .draft_loading import DraftLoadImageFromFile
from .erasing import AnyChannelRandomErasing
from .loading import CheckedLoadImageFromFile, CorruptImageError

__all__ = ['AnyChannelRandomErasing', 'CheckedLoadImageFromFile', 'CorruptImageError',
           'DraftLoadImageFromFile', 'LoadAnyImageFromFile']
