"""Reader of COCO files (``images``, ``annotations``, ``categories``),
indexed by pycocotools' ``COCO``.

Polygons and RLE masks (compressed or not) are kept; an annotation without
``segmentation`` is box-only. ``iscrowd`` is kept as the file has it (crowd
regions stay regions that mmdet ignores). ``file_name`` is relative to
``--images``.
"""
import contextlib
import io
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from .records import (AnnotationFileError, BadRecords, ImageRecord, Instance,
                      image_path, load_json_file)
from .shapes import make_box, make_polygon

__all__ = ['TASK', 'read']

TASK = 'det'


def _index(src: str) -> Any:
    """pycocotools' index of ``src``; a file that is no COCO file raises
    :class:`AnnotationFileError` naming it."""
    from pycocotools.coco import COCO
    data = load_json_file(src)
    if not isinstance(data, dict) or not all(
            isinstance(data.get(key), list)
            for key in ('images', 'annotations', 'categories')):
        raise AnnotationFileError(
            f'{src}: not a COCO file (needs the lists "images", '
            f'"annotations" and "categories")')
    coco = COCO()
    coco.dataset = data
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            coco.createIndex()
    except (KeyError, TypeError) as err:
        raise AnnotationFileError(
            f'{src}: not a COCO file (an entry lacks {err})') from err
    return coco


def _instance(ann: Dict[str, Any], label: str, where: str, src: str,
              bad: BadRecords) -> Optional[Instance]:
    seg = ann.get('segmentation')
    crowd = int(bool(ann.get('iscrowd', 0)))
    if isinstance(seg, dict):
        return Instance(label, where, rle=seg, iscrowd=crowd)
    if isinstance(seg, list) and seg:
        polygons = []
        for n, flat in enumerate(seg):
            points = (list(zip(flat[0::2], flat[1::2]))
                      if isinstance(flat, list) and len(flat) % 2 == 0
                      else [flat])
            inst = make_polygon(points, label, f'{where} polygon {n}', src,
                                bad)
            if inst is not None:
                polygons.extend(inst.polygons)
        if not polygons:
            return None
        return Instance(label, where, polygons=polygons, iscrowd=crowd)
    bbox = ann.get('bbox')
    if not isinstance(bbox, list) or len(bbox) != 4:
        bad.add('shape', src, where, 'neither segmentation nor a bbox of 4 '
                'numbers: skipped')
        return None
    try:
        x, y, w, h = (float(v) for v in bbox)
        corners = [x, y, x + w, y + h]
    except (TypeError, ValueError):
        corners = bbox  # make_box names the problem
    inst = make_box(corners, label, where, src, bad)
    if inst is not None:
        inst.iscrowd = crowd
    return inst


def read(src: str, images_dir: str, bad: BadRecords, *,
         classes: Optional[Sequence[str]] = None,
         class_attribute: Optional[str] = None) -> List[ImageRecord]:
    """The image records of the COCO file ``src``."""
    coco = _index(src)
    names = {cat['id']: str(cat.get('name', cat['id']))
             for cat in coco.dataset['categories']}
    records = []
    seen_ids = set()
    for img in coco.dataset['images']:
        where = f'image id {img.get("id")} ({img.get("file_name")!r})'
        if img['id'] in seen_ids:
            bad.add('duplicate', src, where, 'duplicate image id: skipped')
            continue
        seen_ids.add(img['id'])
        file_name, why = image_path(images_dir, img.get('file_name', ''))
        if file_name is None:
            bad.add('path-refused', src, where, why)
            continue
        size = None
        if img.get('width') and img.get('height'):
            size = (int(img['width']), int(img['height']))
        instances = []
        for ann in coco.imgToAnns.get(img['id'], []):
            ann_where = f'annotation id {ann.get("id")} of {file_name!r}'
            label = names.get(ann.get('category_id'))
            if label is None:
                bad.add('no-class', src, ann_where,
                        f'category_id {ann.get("category_id")!r} is not in '
                        f'"categories": skipped')
                continue
            inst = _instance(ann, label, ann_where, src, bad)
            if inst is not None:
                instances.append(inst)
        records.append(ImageRecord(
            source=src, where=where, file_name=file_name,
            path=osp.join(images_dir, file_name), size=size,
            instances=instances))
    for image_id in sorted(set(coco.imgToAnns) - seen_ids, key=str):
        for ann in coco.imgToAnns[image_id]:
            bad.add('image-missing', src, f'annotation id {ann.get("id")}',
                    f'its image_id {image_id!r} is not in "images": skipped')
    return records
