"""Data transforms of ours (registered into mmcv's TRANSFORMS)."""
from .loading import CheckedLoadImageFromFile, CorruptImageError

__all__ = ['CheckedLoadImageFromFile', 'CorruptImageError']
