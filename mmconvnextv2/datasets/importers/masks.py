"""Reader of semantic segmentation pairs: a folder of label maps (PNG, one
channel, value ``i`` = the ``i``-th class, 255 = ignore) and a folder of
images with the same relative names (any image extension).

The class list is ``--classes`` in index order, else ``classes.txt`` (one
name a line) in the label-map folder. A label map that is not one channel
or holds a value that is no class (and not 255) is a bad record; one whose
size differs from its image's is caught with the other image checks.
"""
import os.path as osp
import posixpath
from typing import Dict, List, Optional, Sequence

import numpy as np

from ...utils.paths import list_images
from .records import (BadRecords, DatasetImportError, ImageRecord,
                      annotation_files, relative_to)

__all__ = ['TASK', 'IGNORE_INDEX', 'CLASSES_FILE', 'resolve_classes',
           'read_label_map', 'read']

TASK = 'seg'
#: The label-map value of pixels that count for no class.
IGNORE_INDEX = 255
#: The class list beside the label maps when --classes is not given.
CLASSES_FILE = 'classes.txt'
_MODES = ('L', 'P', 'I;16', 'I')


def resolve_classes(src: str,
                    classes: Optional[Sequence[str]]) -> List[str]:
    """``classes``, else the names in ``src``'s :data:`CLASSES_FILE`."""
    if classes:
        names = list(classes)
    else:
        path = osp.join(src, CLASSES_FILE)
        if not osp.isfile(path):
            raise DatasetImportError(
                f'masks: name the classes in index order with --classes, '
                f'or in {path} (one a line)')
        with open(path, encoding='utf-8') as f:
            names = [line.strip() for line in f if line.strip()]
    if not 0 < len(names) < IGNORE_INDEX:
        raise DatasetImportError(
            f'masks: {len(names)} classes; a label map holds 1 to '
            f'{IGNORE_INDEX - 1}')
    return names


def read_label_map(path: str) -> np.ndarray:
    """The label map in ``path`` as a 2-D integer array.

    Raises:
        ValueError: It does not decode or is not one channel.
    """
    from PIL import Image
    with Image.open(path) as img:
        if img.mode not in _MODES:
            raise ValueError(f'a label map of mode {img.mode} (expected one '
                             f'channel: {", ".join(_MODES)})')
        return np.asarray(img)


def _image_index(images_dir: str) -> Dict[str, List[str]]:
    """Relative stem -> image files of that stem."""
    index: Dict[str, List[str]] = {}
    try:
        paths = list_images(images_dir)
    except FileNotFoundError as err:
        raise DatasetImportError(f'masks: {err}') from err
    for path in paths:
        stem = posixpath.splitext(relative_to(path, images_dir))[0]
        index.setdefault(stem, []).append(path)
    return index


def read(src: str, images_dir: str, bad: BadRecords, *,
         classes: Optional[Sequence[str]] = None,
         class_attribute: Optional[str] = None) -> List[ImageRecord]:
    """The image records of the label maps under ``src``."""
    if osp.abspath(src) == osp.abspath(images_dir):
        raise DatasetImportError(
            'masks: the label maps and the images must be in two folders')
    names = resolve_classes(src, classes)
    images = _image_index(images_dir)
    records = []
    for mask in annotation_files(src, '.png', 'masks'):
        rel = relative_to(mask, src)
        stem = posixpath.splitext(rel)[0]
        found = sorted(images.get(stem, []))
        if not found:
            bad.add('image-missing', mask, f'label map {rel!r}',
                    f'no image {stem}.* under {images_dir}: skipped')
            continue
        file_name = relative_to(found[0], images_dir)
        where = f'image {file_name!r}'
        try:
            label_map = read_label_map(mask)
        except (OSError, ValueError) as err:
            bad.add('mask', mask, where, f'{err}: skipped')
            continue
        values = np.unique(label_map)
        height, width = label_map.shape[:2]
        wrong = [int(v) for v in values
                 if v != IGNORE_INDEX and not 0 <= v < len(names)]
        if wrong:
            bad.add('mask', mask, where,
                    f'values {", ".join(map(str, wrong[:5]))} are no class '
                    f'(0..{len(names) - 1}, {IGNORE_INDEX} = ignore): skipped')
            continue
        records.append(ImageRecord(
            source=mask, where=where, file_name=file_name, path=found[0],
            size=(int(width), int(height)), mask=mask,
            mask_labels=tuple(names[int(v)] for v in values
                              if v != IGNORE_INDEX)))
    return records
