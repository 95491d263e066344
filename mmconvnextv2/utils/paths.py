"""Paths: remote URIs and image files."""
import os
import os.path as osp
import re
from typing import List, Optional, Sequence, Union

__all__ = ['is_remote', 'IMAGE_EXTENSIONS', 'is_image_file', 'list_images']

_SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*://')

#: What is read as an image (mmcv / Pillow decode these).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def is_remote(path: Optional[Union[str, os.PathLike]]) -> bool:
    """Whether ``path`` is a URI (``https://``, ``s3://``, ``open-mmlab://``
    ...) rather than a local path; None is not remote."""
    return path is not None and bool(_SCHEME.match(os.fspath(path)))


def is_image_file(path: str) -> bool:
    """Whether ``path`` has one of :data:`IMAGE_EXTENSIONS` (any case)."""
    return path.lower().endswith(IMAGE_EXTENSIONS)


def list_images(folder: str, recursive: bool = True,
                extensions: Sequence[str] = IMAGE_EXTENSIONS) -> List[str]:
    """The image files (of ``extensions``, any case) under ``folder`` in
    sorted path order.

    Raises:
        FileNotFoundError: ``folder`` is not a directory, or holds no image.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder not found: {folder!r}')
    suffixes = tuple(e.lower() for e in extensions)
    if recursive:
        found = [osp.join(root, name) for root, _, names in os.walk(folder)
                 for name in names if name.lower().endswith(suffixes)]
    else:
        found = [osp.join(folder, name) for name in os.listdir(folder)
                 if name.lower().endswith(suffixes)]
    if not found:
        raise FileNotFoundError(
            f'no images ({", ".join(extensions)}) under {folder!r}')
    return sorted(found)
