"""Reader of Pascal VOC XML files: a folder of one ``.xml`` per image (as
``Annotations/``), or one file.

Each ``<object>`` gives a class (``<name>``) and a box (``<bndbox>``),
box-only. VOC counts pixels from 1 and includes ``xmax``: the box covers
``[xmin - 1, xmax]`` in COCO's continuous coordinates, as mmdet's VOC reader
also subtracts 1. ``difficult`` objects are kept as ordinary ones. The image
is ``<filename>`` under ``--images`` (``<folder>`` and ``<path>``, often a
path on the annotator's machine, are not used); ``<size>`` is checked
against the image when it is not 0.
"""
import os.path as osp
import xml.etree.ElementTree as ET
from typing import List, Optional, Sequence, Tuple

from .records import (AnnotationFileError, BadRecords, ImageRecord,
                      annotation_files, image_path, load_xml_file)
from .shapes import make_box

__all__ = ['TASK', 'read']

TASK = 'det'


def _text(node: Optional[ET.Element], tag: str) -> str:
    child = None if node is None else node.find(tag)
    return '' if child is None or child.text is None else child.text.strip()


def _size(root: ET.Element) -> Optional[Tuple[int, int]]:
    try:
        width = int(float(_text(root.find('size'), 'width')))
        height = int(float(_text(root.find('size'), 'height')))
    except ValueError:
        return None
    return (width, height) if width > 0 and height > 0 else None


def _record(path: str, root: ET.Element, images_dir: str,
            bad: BadRecords) -> Optional[ImageRecord]:
    if root.tag != 'annotation':
        raise AnnotationFileError(
            f'{path}: not a VOC file (root element <{root.tag}>, expected '
            f'<annotation>)')
    where = f'image {_text(root, "filename")!r}'
    file_name, why = image_path(images_dir, _text(root, 'filename'))
    if file_name is None:
        bad.add('path-refused', path, where, why)
        return None
    instances = []
    for n, obj in enumerate(root.findall('object')):
        label = _text(obj, 'name')
        obj_where = f'{where} object {n} ({label or "no name"})'
        if not label:
            bad.add('no-class', path, obj_where, 'object without <name>: '
                    'skipped')
            continue
        box = obj.find('bndbox')
        coords: List = [_text(box, t) for t in ('xmin', 'ymin', 'xmax',
                                                 'ymax')]
        try:
            coords = [float(coords[0]) - 1, float(coords[1]) - 1,
                      float(coords[2]), float(coords[3])]
        except ValueError:
            pass  # make_box names the problem
        inst = make_box(coords, label, obj_where, path, bad)
        if inst is not None:
            instances.append(inst)
    return ImageRecord(source=path, where=where, file_name=file_name,
                       path=osp.join(images_dir, file_name),
                       size=_size(root), instances=instances)


def read(src: str, images_dir: str, bad: BadRecords, *,
         classes: Optional[Sequence[str]] = None,
         class_attribute: Optional[str] = None) -> List[ImageRecord]:
    """The image records of the VOC files under ``src``."""
    records = []
    for path in annotation_files(src, '.xml', 'voc'):
        record = _record(path, load_xml_file(path), images_dir, bad)
        if record is not None:
            records.append(record)
    return records
