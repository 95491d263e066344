"""Reader of VGG Image Annotator (VIA) 1.x and 2.x JSON files.

Read: the annotation export (``{key: {"filename", "regions", ...}}``, with
``regions`` a dict in 1.x and a list in 2.x) and the 2.x project file (the
same under ``_via_img_metadata``). Regions: ``polygon``, ``rect`` (box-only),
``circle`` and ``ellipse`` (as polygons of
:data:`~.shapes.ELLIPSE_POINTS` vertices); ``point`` and ``polyline`` have
no area and are bad records. The class is the value of a region attribute:
the one named by ``class_attribute``, else the only attribute the file's
regions have; a file without region attributes has one class (the only name
of ``classes``, else ``object``). ``filename`` is relative to ``--images``.
VIA 3 projects are a different format and are refused with a message.
"""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from .records import (AnnotationFileError, BadRecords, DatasetImportError,
                      ImageRecord, Instance, image_path, load_json_file)
from .shapes import ellipse_polygon, make_box, make_polygon

__all__ = ['TASK', 'DEFAULT_CLASS', 'read']

TASK = 'det'
#: The class of a file whose regions carry no attribute.
DEFAULT_CLASS = 'object'


def _entries(src: str, data: Any) -> List[Dict[str, Any]]:
    """The per-image entries of a VIA file."""
    if isinstance(data, dict) and '_via_img_metadata' in data:
        data = data['_via_img_metadata']
    elif isinstance(data, dict) and {'project', 'file', 'metadata'} <= set(
            data):
        raise AnnotationFileError(
            f'{src}: a VIA 3 project, which is not read; export the '
            f'annotations as VIA 2 JSON, or COCO')
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and 'filename' in v for v in data.values()):
        raise AnnotationFileError(
            f'{src}: not a VIA file (expected {{key: {{"filename", '
            f'"regions"}}}} or a VIA 2 project)')
    return list(data.values())


def _regions(entry: Dict[str, Any]) -> List[Dict[str, Any]]:
    regions = entry.get('regions') or []
    if isinstance(regions, dict):  # VIA 1.x: {"0": {...}, "1": {...}}
        return [regions[k] for k in sorted(regions, key=lambda k: (
            not str(k).isdigit(), int(k) if str(k).isdigit() else 0, k))]
    return list(regions)


def _class_attribute(src: str, entries: List[Dict[str, Any]],
                     chosen: Optional[str]) -> Optional[str]:
    """The region attribute that holds the class, or None (one class)."""
    if chosen:
        return chosen
    keys = set()
    for entry in entries:
        for region in _regions(entry):
            keys.update((region.get('region_attributes') or {}).keys())
    if len(keys) > 1:
        raise DatasetImportError(
            f'{src}: regions have the attributes {", ".join(sorted(keys))}; '
            f'name the one that holds the class with --class-attribute')
    return next(iter(keys), None)


def _label(region: Dict[str, Any], attribute: Optional[str], default: str
           ) -> Optional[str]:
    if attribute is None:
        return default
    value = (region.get('region_attributes') or {}).get(attribute)
    if isinstance(value, dict):  # checkbox: {"cat": true, "dog": false}
        ticked = [k for k, v in value.items() if v]
        value = ticked[0] if len(ticked) == 1 else None
    if value is None or not str(value).strip():
        return None
    return str(value).strip()


def _instance(shape: Dict[str, Any], label: str, where: str, src: str,
              bad: BadRecords) -> Optional[Instance]:
    kind = shape.get('name')
    try:
        if kind == 'polygon':
            return make_polygon(list(zip(shape['all_points_x'],
                                         shape['all_points_y'])),
                                label, where, src, bad)
        if kind == 'rect':
            x, y = float(shape['x']), float(shape['y'])
            return make_box([x, y, x + float(shape['width']),
                             y + float(shape['height'])],
                            label, where, src, bad)
        if kind in ('circle', 'ellipse'):
            rx = float(shape['r'] if kind == 'circle' else shape['rx'])
            ry = float(shape['r'] if kind == 'circle' else shape['ry'])
            points = ellipse_polygon(float(shape['cx']), float(shape['cy']),
                                     rx, ry, float(shape.get('theta', 0)))
            return make_polygon(points, label, where, src, bad)
    except (KeyError, TypeError, ValueError) as err:
        bad.add('shape', src, where, f'{kind} region without a usable '
                f'{err}: skipped')
        return None
    bad.add('shape', src, where, f'{kind or "unnamed"} region is not an '
            f'area (polygon, rect, circle, ellipse): skipped')
    return None


def read(src: str, images_dir: str, bad: BadRecords, *,
         classes: Optional[Sequence[str]] = None,
         class_attribute: Optional[str] = None) -> List[ImageRecord]:
    """The image records of the VIA file ``src``."""
    entries = _entries(src, load_json_file(src))
    attribute = _class_attribute(src, entries, class_attribute)
    default = classes[0] if classes and len(classes) == 1 else DEFAULT_CLASS
    records = []
    for entry in entries:
        where = f'image {entry["filename"]!r}'
        file_name, why = image_path(images_dir, entry['filename'])
        if file_name is None:
            bad.add('path-refused', src, where, why)
            continue
        instances = []
        for n, region in enumerate(_regions(entry)):
            region_where = f'{where} region {n}'
            label = _label(region, attribute, default)
            if label is None:
                bad.add('no-class', src, region_where,
                        f'no class in region attribute {attribute!r}: '
                        f'skipped')
                continue
            inst = _instance(region.get('shape_attributes') or {}, label,
                             region_where, src, bad)
            if inst is not None:
                instances.append(inst)
        records.append(ImageRecord(
            source=src, where=where, file_name=file_name,
            path=osp.join(images_dir, file_name), instances=instances))
    return records
