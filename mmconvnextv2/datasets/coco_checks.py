"""COCO annotation files: the quick check of :func:`check_dataset_config`
(the file parses, is COCO, defines the dataset's classes) and every problem
of a file and its images for the pre-flight (:func:`coco_problems`)."""
import json
import os.path as osp
from typing import Any, List, Optional, Sequence

from ..utils.paths import is_remote
from .config_datasets import join_root, missing_data_hint
from .problems import (DatasetConfigError, DatasetFileNotFoundError,
                       DatasetProblem, image_problem, image_size)

__all__ = ['COCO_KEYS', 'read_json_file', 'check_coco_annotation_file',
           'coco_problems']

COCO_KEYS = ('images', 'annotations', 'categories')


def read_json_file(path: str) -> Any:
    """The JSON content of ``path``.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: not valid JSON (``UnicodeDecodeError`` is one).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(path)
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def check_coco_annotation_file(ann_file: str,
                               classes: Optional[Sequence[str]] = None,
                               where: str = 'dataset') -> dict:
    """Check a COCO-format annotation file and return its parsed content.

    Args:
        ann_file: Path of the JSON file.
        classes: Class names the dataset is configured with; each must be
            the name of a category of the file.
        where: How to name the dataset in messages (e.g. the dataloader).

    Raises:
        FileNotFoundError: The file does not exist.
        DatasetConfigError: It is not valid JSON, lacks a COCO key, or does
            not define some of ``classes``.
    """
    try:
        content = read_json_file(ann_file)
    except FileNotFoundError:
        raise DatasetFileNotFoundError(
            f'{where}: annotation file {ann_file} does not exist'
            f'{missing_data_hint(ann_file)}') from None
    except ValueError as e:
        raise DatasetConfigError(
            f'{where}: annotation file {ann_file} is not valid JSON: '
            f'{e}') from e
    if not isinstance(content, dict) or any(k not in content
                                            for k in COCO_KEYS):
        found = sorted(content) if isinstance(content, dict) else \
            type(content).__name__
        raise DatasetConfigError(
            f'{where}: annotation file {ann_file} is not in the COCO format: '
            f'it needs the keys {list(COCO_KEYS)}, found {found}')
    if classes is not None:
        names = [c.get('name') for c in content['categories']
                 if isinstance(c, dict)]
        missing = [c for c in classes if c not in names]
        if missing:
            raise DatasetConfigError(
                f'{where}: classes {missing} are not categories of the '
                f'annotation file {ann_file} (its categories: {names}); set '
                "the dataset's metainfo=dict(classes=...) to names of the "
                'file')
    return content


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _segmentation_problem(seg: Any, height: Optional[int],
                          width: Optional[int]) -> Optional[str]:
    if isinstance(seg, list):  # polygons
        if not seg:
            return 'empty polygon list'
        for poly in seg:
            if not isinstance(poly, list) or not all(map(_is_number, poly)):
                return 'polygon is not a list of numbers'
            if len(poly) < 6 or len(poly) % 2:
                return (f'polygon with {len(poly)} coordinates (needs an even '
                        'number, at least 6)')
        return None
    if isinstance(seg, dict):  # RLE
        if 'counts' not in seg or 'size' not in seg:
            return 'RLE without "counts" and "size"'
        size = seg['size']
        if not (isinstance(size, list) and len(size) == 2):
            return f'RLE size {size!r} is not [height, width]'
        if height is not None and list(size) != [height, width]:
            return f'RLE size {size} differs from the image [{height}, {width}]'
        counts = seg['counts']
        if isinstance(counts, list):
            if not all(isinstance(c, int) and c >= 0 for c in counts) or \
                    sum(counts) != size[0] * size[1]:
                return (f'uncompressed RLE counts sum to {sum(counts)}'
                        if all(isinstance(c, int) for c in counts) else
                        'RLE counts are not non-negative integers') + \
                    f', not height x width = {size[0] * size[1]}'
            return None
        try:
            from pycocotools import mask as mask_utils
            mask_utils.decode(dict(size=size, counts=counts.encode()
                                   if isinstance(counts, str) else counts))
        except Exception as err:
            return f'compressed RLE does not decode: {err}'
        return None
    return f'segmentation is a {type(seg).__name__}, not polygons or RLE'


def coco_problems(ann_file: str, img_dir: Optional[str],
                   classes: Optional[Sequence[str]],
                   where: str) -> List[DatasetProblem]:
    """Every problem of a COCO annotation file and its images."""
    try:
        content = read_json_file(ann_file)
    except FileNotFoundError:
        return [DatasetProblem(ann_file, 'annotation file missing', where)]
    except ValueError as err:
        return [DatasetProblem(ann_file, f'not valid JSON: {err}', where)]
    if not isinstance(content, dict) or any(
            not isinstance(content.get(k), list) for k in COCO_KEYS):
        return [DatasetProblem(ann_file, 'not COCO: needs the lists '
                               f'{list(COCO_KEYS)}', where)]
    found: List[DatasetProblem] = []

    def add(file: str, what: str, entry: str) -> None:
        found.append(DatasetProblem(file, what, f'{where}, {entry}'))

    categories = _coco_categories(content, ann_file, classes, add)
    images = _coco_images(content, ann_file, img_dir, add)
    for i, ann in enumerate(content['annotations']):
        _coco_annotation(i, ann, ann_file, images, categories, add)
    return found


_Add = Any  # add(file, what, entry): records one problem


def _coco_categories(content: dict, ann_file: str,
                     classes: Optional[Sequence[str]], add: _Add) -> dict:
    """The file's categories (id -> name); problems with them and with the
    config's classes."""
    categories = {}
    for i, cat in enumerate(content['categories']):
        if not isinstance(cat, dict) or 'id' not in cat or 'name' not in cat:
            add(ann_file, 'category without "id" and "name"',
                f'categories[{i}]')
        else:
            categories[cat['id']] = cat['name']
    for name in classes or []:
        if name not in categories.values():
            add(ann_file, f'class {name!r} of the config is not a category '
                f'of the file (its categories: {sorted(categories.values())})',
                'categories')
    return categories


def _coco_images(content: dict, ann_file: str, img_dir: Optional[str],
                 add: _Add) -> dict:
    """The file's image entries (id -> entry); problems with the entries
    and with the image files (missing, undecodable, another size)."""
    images = {}
    for i, img in enumerate(content['images']):
        missing = [k for k in ('id', 'file_name', 'width', 'height')
                   if not isinstance(img, dict) or k not in img]
        if missing:
            add(ann_file, f'image entry without {missing}', f'images[{i}]')
            if isinstance(img, dict) and 'id' in img:
                images[img['id']] = img  # its annotations are still checked
            continue
        if img['id'] in images:
            add(ann_file, f'duplicate image id {img["id"]}', f'images[{i}]')
        images[img['id']] = img
        path = join_root(img_dir, img['file_name']) or img['file_name']
        if is_remote(path):
            continue
        why = image_problem(path)
        if why is None:
            size = image_size(path)
            if size != (img['width'], img['height']):
                why = (f'image is {size[0]}x{size[1]}, the annotation file '
                       f'says {img["width"]}x{img["height"]}')
        if why:
            add(path, why, f'image id {img["id"]}')
    return images


def _coco_annotation(i: int, ann: Any, ann_file: str, images: dict,
                     categories: dict, add: _Add) -> None:
    """Problems of the annotation entry ``i``."""
    missing = [k for k in ('id', 'image_id', 'category_id', 'bbox')
               if not isinstance(ann, dict) or k not in ann]
    if missing:
        add(ann_file, f'annotation without {missing}', f'annotations[{i}]')
        return
    entry = f'annotation id {ann["id"]}'
    img = images.get(ann['image_id'])
    if img is None:
        add(ann_file, f'image_id {ann["image_id"]} is not an image of the '
            'file', entry)
    if ann['category_id'] not in categories:
        add(ann_file, f'category_id {ann["category_id"]} is not a '
            'category of the file', entry)
    box = ann['bbox']
    if not (isinstance(box, list) and len(box) == 4
            and all(map(_is_number, box))):
        add(ann_file, f'bbox {box!r} is not [x, y, w, h]', entry)
    elif box[2] <= 0 or box[3] <= 0:
        add(ann_file, f'degenerate bbox {box} (width and height must be '
            '> 0)', entry)
    crowd = ann.get('iscrowd', 0)
    if crowd not in (0, 1) or isinstance(crowd, bool):
        add(ann_file, f'iscrowd is {crowd!r}, not 0 or 1', entry)
    if 'segmentation' in ann:
        h = img.get('height') if img else None
        w = img.get('width') if img else None
        why = _segmentation_problem(ann['segmentation'], h, w)
        if why:
            add(ann_file, why, entry)
