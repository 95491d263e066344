"""Shapes to COCO objects: polygons, boxes, circles and ellipses are checked
when read, then clipped to the image and measured with pycocotools.

A box-only object (a rectangle, a VOC box, a COCO annotation without
``segmentation``) gets its box as its polygon, so that a Mask R-CNN config
reads every annotation (mmdet's mask loading needs a ``segmentation`` on
each one); its mask target is then the box. (A set of boxes only is written
without any, see :func:`.validation.fit_objects`.)
"""
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .records import BadRecords, Instance

__all__ = ['TOLERANCE', 'ELLIPSE_POINTS', 'make_polygon', 'make_box',
           'ellipse_polygon', 'coco_object']

#: A shape beyond the image by at most this many pixels is clamped to it
#: without a bad record (tools put clicks on the border a little outside).
TOLERANCE = 1.0
#: Vertices of the polygon that stands for a circle or an ellipse.
ELLIPSE_POINTS = 32


def _numbers(values: Sequence[Any]) -> Optional[List[float]]:
    """``values`` as finite floats, or None when one is not a number."""
    out = []
    for value in values:
        if isinstance(value, bool):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(number):
            return None
        out.append(number)
    return out


def make_polygon(points: Sequence[Sequence[Any]], label: str, where: str,
                 file: str, bad: BadRecords) -> Optional[Instance]:
    """An instance of one polygon ``[(x, y), ...]``, or None (and a bad
    record) when it has fewer than 3 points or a coordinate is no number."""
    try:
        flat = _numbers([v for point in points for v in point])
        pairs = all(len(point) == 2 for point in points)
    except TypeError:
        flat, pairs = None, False
    if flat is None or not pairs:
        bad.add('shape', file, where, 'polygon coordinates are not (x, y) '
                'number pairs: skipped')
        return None
    if len(points) < 3:
        bad.add('polygon', file, where, f'polygon with {len(points)} '
                f'point(s) (fewer than 3): skipped')
        return None
    return Instance(label, where, polygons=[flat])


def make_box(coords: Sequence[Any], label: str, where: str, file: str,
             bad: BadRecords) -> Optional[Instance]:
    """An instance of the box ``(x1, y1, x2, y2)`` (corners in any order),
    or None (and a bad record) when a coordinate is no number."""
    values = _numbers(coords) if len(coords) == 4 else None
    if values is None:
        bad.add('shape', file, where, 'box coordinates are not 4 numbers: '
                'skipped')
        return None
    x1, y1, x2, y2 = values
    return Instance(label, where, box=(min(x1, x2), min(y1, y2),
                                       max(x1, x2), max(y1, y2)))


def ellipse_polygon(cx: float, cy: float, rx: float, ry: float,
                    theta: float = 0.0) -> List[Tuple[float, float]]:
    """:data:`ELLIPSE_POINTS` vertices of the ellipse (``theta``: rotation
    in radians); a circle is ``rx == ry``."""
    angles = np.linspace(0, 2 * np.pi, ELLIPSE_POINTS, endpoint=False)
    cos, sin = math.cos(theta), math.sin(theta)
    xs, ys = rx * np.cos(angles), ry * np.sin(angles)
    return [(float(cx + x * cos - y * sin), float(cy + x * sin + y * cos))
            for x, y in zip(xs, ys)]


def _shoelace(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _clip(xy: np.ndarray, width: int, height: int) -> Tuple[np.ndarray, bool]:
    """``xy`` clamped to the image; whether it went beyond the tolerance."""
    limit = np.array([width, height], dtype=float)
    beyond = bool((xy < -TOLERANCE).any() or (xy > limit + TOLERANCE).any())
    return np.clip(xy, 0, limit), beyond


def _rounded(values) -> List[float]:
    return [round(float(v), 3) for v in values]


def _clip_polygons(inst: Instance, width: int, height: int, file: str,
                   bad: BadRecords) -> Optional[List[List[float]]]:
    kept, clipped = [], False
    for flat in inst.polygons:
        xy = np.asarray(flat, dtype=float).reshape(-1, 2)
        if _shoelace(xy) == 0:
            bad.add('empty', file, inst.where, 'polygon without area: '
                    'skipped')
            continue
        xy, beyond = _clip(xy, width, height)
        clipped |= beyond
        if _shoelace(xy) > 0:
            kept.append(_rounded(xy.ravel()))
    if clipped:
        bad.add('outside', file, inst.where,
                f'polygon outside the image ({width}x{height}): '
                + ('clipped' if kept else 'nothing left: skipped'))
    return kept or None


def coco_object(inst: Instance, width: int, height: int, file: str,
                bad: BadRecords) -> Optional[Dict[str, Any]]:
    """The COCO fields (``bbox``, ``area``, ``segmentation``, ``iscrowd``)
    of ``inst`` on a ``width`` x ``height`` image, clipped to it; None (and a
    bad record) when nothing usable is left."""
    from pycocotools import mask as mask_utils
    if inst.rle is not None:
        rle = dict(inst.rle)
        if list(rle.get('size', [])) != [height, width]:
            bad.add('image-size', file, inst.where,
                    f'RLE of size {rle.get("size")} on an image of '
                    f'{width}x{height}: skipped')
            return None
        if isinstance(rle.get('counts'), list):
            rle = mask_utils.frPyObjects(rle, height, width)
        elif isinstance(rle.get('counts'), str):
            rle['counts'] = rle['counts'].encode('ascii')
        area = float(mask_utils.area(rle))
        bbox = _rounded(mask_utils.toBbox(rle))
        segmentation: Any = {'size': [height, width],
                             'counts': rle['counts'].decode('ascii')}
    elif inst.polygons:
        polygons = _clip_polygons(inst, width, height, file, bad)
        if polygons is None:
            return None
        xy = np.concatenate([np.reshape(p, (-1, 2)) for p in polygons])
        x1, y1 = xy.min(0)
        x2, y2 = xy.max(0)
        bbox = _rounded([x1, y1, x2 - x1, y2 - y1])
        area = float(mask_utils.area(mask_utils.merge(
            mask_utils.frPyObjects(polygons, height, width))))
        segmentation = polygons
    else:
        corners = np.asarray(inst.box, dtype=float).reshape(2, 2)
        corners, beyond = _clip(corners, width, height)
        (x1, y1), (x2, y2) = corners
        if beyond:
            bad.add('outside', file, inst.where,
                    f'box outside the image ({width}x{height}): '
                    + ('clipped' if x2 > x1 and y2 > y1
                       else 'nothing left: skipped'))
        if x2 <= x1 or y2 <= y1:
            if not beyond:
                bad.add('empty', file, inst.where, 'box without area: '
                        'skipped')
            return None
        bbox = _rounded([x1, y1, x2 - x1, y2 - y1])
        area = float((x2 - x1) * (y2 - y1))
        segmentation = [_rounded([x1, y1, x2, y1, x2, y2, x1, y2])]
    if area <= 0 or bbox[2] < 1 or bbox[3] < 1:
        bad.add('empty', file, inst.where,
                f'object of {bbox[2]:g}x{bbox[3]:g} px and area {area:g} '
                f'(mmdet skips objects under 1 px): skipped')
        return None
    return {'bbox': bbox, 'area': area, 'segmentation': segmentation,
            'iscrowd': int(inst.iscrowd)}
