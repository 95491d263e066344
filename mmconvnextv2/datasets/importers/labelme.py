"""Reader of labelme JSON files: a folder of one ``.json`` per image.

Shapes: ``polygon``, ``rectangle`` (box-only) and ``circle`` (centre and a
point on the circle, as a polygon); shapes that share a ``label`` and a
``group_id`` are one object of several polygons, as labelme means them.
``line``, ``linestrip``, ``point``, ``points`` and ``mask`` shapes are bad
records. ``imagePath`` is relative to the JSON file, as labelme writes it,
and must lead into the image folder (by default the JSON folder);
``imageWidth`` / ``imageHeight`` are checked against the image.
"""
import math
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .records import (AnnotationFileError, BadRecords, ImageRecord, Instance,
                      annotation_files, image_path, load_json_file)
from .shapes import ellipse_polygon, make_box, make_polygon

__all__ = ['TASK', 'read']

TASK = 'det'


def _instance(shape: Dict[str, Any], where: str, src: str,
              bad: BadRecords) -> Optional[Instance]:
    kind = shape.get('shape_type') or 'polygon'
    points = shape.get('points') or []
    label = str(shape['label'])
    if kind == 'polygon':
        return make_polygon(points, label, where, src, bad)
    if kind in ('rectangle', 'circle') and len(points) != 2:
        bad.add('shape', src, where, f'{kind} with {len(points)} points '
                f'(needs 2): skipped')
        return None
    if kind == 'rectangle':
        try:
            (x1, y1), (x2, y2) = points
        except (TypeError, ValueError):
            x1 = y1 = x2 = y2 = None
        return make_box([x1, y1, x2, y2], label, where, src, bad)
    if kind == 'circle':
        try:
            (cx, cy), (px, py) = [[float(v) for v in p] for p in points]
        except (TypeError, ValueError):
            bad.add('shape', src, where, 'circle points are not numbers: '
                    'skipped')
            return None
        radius = math.hypot(px - cx, py - cy)
        return make_polygon(ellipse_polygon(cx, cy, radius, radius), label,
                            where, src, bad)
    bad.add('shape', src, where, f'{kind} shape is not an area (polygon, '
            f'rectangle, circle): skipped')
    return None


def _merge_groups(instances: List[Tuple[Optional[Any], Instance]]
                  ) -> List[Instance]:
    """One instance per (label, group_id); ungrouped shapes stay single."""
    merged: Dict[Tuple[str, Any], Instance] = {}
    out = []
    for group, inst in instances:
        if group is None or inst.box is not None:
            out.append(inst)
            continue
        first = merged.get((inst.label, group))
        if first is None:
            merged[(inst.label, group)] = inst
            out.append(inst)
        else:
            first.polygons.extend(inst.polygons)
    return out


def _record(path: str, data: Any, images_dir: str,
            bad: BadRecords) -> Optional[ImageRecord]:
    if not isinstance(data, dict) or 'shapes' not in data or \
            'imagePath' not in data:
        raise AnnotationFileError(
            f'{path}: not a labelme file (needs "shapes" and "imagePath")')
    where = f'image {data["imagePath"]!r}'
    file_name, why = image_path(images_dir, data['imagePath'],
                                base_dir=osp.dirname(path))
    if file_name is None:
        bad.add('path-refused', path, where, why)
        return None
    instances = []
    for n, shape in enumerate(data['shapes']):
        shape_where = f'{where} shape {n}'
        if not isinstance(shape, dict) or not str(
                shape.get('label', '')).strip():
            bad.add('no-class', path, shape_where, 'shape without a label: '
                    'skipped')
            continue
        inst = _instance(shape, f'{shape_where} ({shape["label"]})', path,
                         bad)
        if inst is not None:
            instances.append((shape.get('group_id'), inst))
    size = None
    if data.get('imageWidth') and data.get('imageHeight'):
        size = (int(data['imageWidth']), int(data['imageHeight']))
    return ImageRecord(source=path, where=where, file_name=file_name,
                       path=osp.join(images_dir, file_name), size=size,
                       instances=_merge_groups(instances))


def read(src: str, images_dir: str, bad: BadRecords, *,
         classes: Optional[Sequence[str]] = None,
         class_attribute: Optional[str] = None) -> List[ImageRecord]:
    """The image records of the labelme files under ``src``."""
    records = []
    for path in annotation_files(src, '.json', 'labelme'):
        record = _record(path, load_json_file(path), images_dir, bad)
        if record is not None:
            records.append(record)
    return records
