"""The validated record model of an import, and the bad-record bookkeeping.

A reader turns one annotation format into :class:`ImageRecord` objects (an
image, where it came from, its :class:`Instance` objects or its class or its
label map). Whatever cannot be used is not raised but written down as a
:class:`BadRecord` (the file, the record in it, why, and a kind from
:data:`BAD_KINDS`) and skipped; the summary names every one. Only a file that
cannot be read at all (invalid JSON or XML, not the expected format) raises
:class:`AnnotationFileError`.
"""
import json
import os
import os.path as osp
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ...utils.errors import reported
from ...utils.paths import is_remote

__all__ = ['DatasetImportError', 'AnnotationFileError', 'BAD_KINDS',
           'BadRecord', 'BadRecords', 'Instance', 'ImageInfo', 'ImageRecord',
           'image_path', 'relative_to', 'annotation_files',
           'load_json_file', 'load_xml_file']


@reported
class DatasetImportError(ValueError):
    """The import cannot run as asked (a missing folder, OUT inside SRC...)."""


class AnnotationFileError(DatasetImportError):
    """An annotation file cannot be read at all (the tool exits with 2)."""


#: Every kind of bad record, with what it means (the report's legend).
BAD_KINDS: Dict[str, str] = {
    'polygon': 'a polygon with fewer than 3 points',
    'outside': 'a box or polygon outside the image: clipped, or dropped '
               'when nothing is left',
    'empty': 'an object without area (mmdet would skip it silently)',
    'shape': 'a shape that is not an area or is malformed',
    'no-class': 'an object without a class',
    'unknown-class': 'an object whose class is not in --classes',
    'path-refused': 'an image path that leads outside the image folder',
    'image-missing': 'the image file does not exist',
    'image-unreadable': 'the image file does not decode',
    'image-size': "the image's size contradicts the annotation",
    'duplicate': 'an image imported twice (same file or same content)',
    'mask': 'a label map that cannot be used',
    'val-only-class': 'a class seen only in val: dropped',
    'unused-class': 'a class of the class list seen in neither split: '
                    'dropped',
}


@dataclass
class BadRecord:
    """One skipped (or clipped) record: ``file: record: why``."""

    file: str
    record: str
    why: str
    kind: str

    def __str__(self) -> str:
        return f'{self.file}: {self.record}: {self.why}'


class BadRecords:
    """The bad records of one import, in the order they were found."""

    def __init__(self) -> None:
        self.items: List[BadRecord] = []

    def add(self, kind: str, file: str, record: str, why: str) -> None:
        """Write down a bad record of ``kind`` (a key of :data:`BAD_KINDS`)."""
        if kind not in BAD_KINDS:
            raise KeyError(f'unknown bad-record kind {kind!r}')
        self.items.append(BadRecord(file, record, why, kind))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def counts(self) -> Dict[str, int]:
        """How many bad records of each kind."""
        return dict(Counter(item.kind for item in self.items))

    def kinds(self) -> List[str]:
        """The kinds found, each once, in :data:`BAD_KINDS` order."""
        found = {item.kind for item in self.items}
        return [kind for kind in BAD_KINDS if kind in found]

    def to_json(self) -> List[Dict[str, str]]:
        return [vars(item).copy() for item in self.items]


@dataclass
class Instance:
    """One object: polygons (flat ``[x0, y0, x1, y1, ...]`` lists), a box
    ``(x1, y1, x2, y2)`` when the source has only a box, or a COCO RLE."""

    label: str
    where: str
    polygons: List[List[float]] = field(default_factory=list)
    box: Optional[Tuple[float, float, float, float]] = None
    rle: Optional[Dict[str, Any]] = None
    iscrowd: int = 0


@dataclass
class ImageInfo:
    """What decoding an image told: its size as the loader gives it, its
    channels and dtype, per-channel sums for mean/std, a content digest."""

    width: int
    height: int
    channels: int
    dtype: str
    sums: Any
    squares: Any
    pixels: int
    digest: str


@dataclass
class ImageRecord:
    """One image of the source and what it is annotated with.

    ``file_name`` is the posix path relative to the image folder, ``path``
    the file on disk; ``size`` is ``(width, height)`` as annotated (None when
    the format does not say). Detection records carry ``instances`` (and,
    once clipped to the image, ``objects``: their COCO fields and
    ``label``), classification records a ``label``, segmentation records a
    ``mask`` (label map file) and the ``mask_labels`` found in it.
    """

    source: str
    where: str
    file_name: str
    path: str
    size: Optional[Tuple[int, int]] = None
    instances: List[Instance] = field(default_factory=list)
    objects: Optional[List[Dict[str, Any]]] = None
    label: Optional[str] = None
    mask: Optional[str] = None
    mask_labels: Tuple[str, ...] = ()
    split: Optional[str] = None
    info: Optional[ImageInfo] = None

    def labels(self) -> List[str]:
        """The class names this record holds (one per object)."""
        if self.label is not None:
            return [self.label]
        if self.mask is not None:
            return list(self.mask_labels)
        if self.objects is not None:
            return [obj['label'] for obj in self.objects]
        return [inst.label for inst in self.instances]


_WINDOWS_DRIVE = re.compile(r'^[A-Za-z]:[\\/]')


def image_path(images_dir: str, name: str,
               base_dir: Optional[str] = None) -> Tuple[Optional[str], str]:
    """Resolve an image path written in an annotation.

    Args:
        images_dir: The image folder (``--images``).
        name: The path as the annotation has it (``\\`` read as ``/``).
        base_dir: The folder ``name`` is relative to, if not ``images_dir``
            (labelme writes paths relative to its JSON file).

    Returns:
        ``(file_name, '')`` with the posix path relative to ``images_dir``,
        or ``(None, why)`` when the path is refused: absolute, a URL, or
        leading outside ``images_dir`` (through ``..``). The test is on the
        path as written, so links inside the folder are followed as usual.
    """
    text = str(name).strip()
    if not text:
        return None, 'no image path'
    if is_remote(text):
        return None, f'image path {text!r} is a URL: refused'
    posix = text.replace('\\', '/')
    if posix.startswith('/') or _WINDOWS_DRIVE.match(text):
        return None, (f'image path {text!r} is absolute: refused (paths '
                      f'are read relative to the image folder)')
    root = osp.abspath(images_dir)
    full = osp.normpath(osp.join(osp.abspath(base_dir or images_dir), posix))
    rel = relative_to(full, root)
    if rel == '..' or rel.startswith('../'):
        return None, (f'image path {text!r} leads outside the image folder '
                      f'{images_dir}: refused')
    return rel, ''


def annotation_files(src: str, extension: str, fmt: str) -> List[str]:
    """``src`` itself if it is a file, else the files ending in
    ``extension`` under the folder ``src`` (recursively, sorted).

    Raises:
        DatasetImportError: ``src`` is missing, or holds no such file.
    """
    if osp.isfile(src):
        return [src]
    if not osp.isdir(src):
        raise DatasetImportError(f'{fmt}: {src} is neither a folder nor a '
                                 f'file')
    found = sorted(osp.join(root, name) for root, _, names in os.walk(src)
                   for name in names if name.lower().endswith(extension))
    if not found:
        raise DatasetImportError(f'{fmt}: no {extension} file under {src}')
    return found


def load_json_file(path: str) -> Any:
    """The JSON in ``path``.

    Raises:
        AnnotationFileError: It is missing, unreadable or not valid JSON.
    """
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except FileNotFoundError:
        raise AnnotationFileError(f'{path}: annotation file not found')
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise AnnotationFileError(f'{path}: not valid JSON ({err})') from err


def load_xml_file(path: str) -> ET.Element:
    """The root element of the XML file ``path``.

    Raises:
        AnnotationFileError: It is missing, unreadable or not valid XML.
    """
    try:
        return ET.parse(path).getroot()
    except FileNotFoundError:
        raise AnnotationFileError(f'{path}: annotation file not found')
    except (OSError, ET.ParseError) as err:
        raise AnnotationFileError(f'{path}: not valid XML ({err})') from err


def relative_to(path: str, folder: str) -> str:
    """``path`` relative to ``folder`` as a posix path."""
    return osp.relpath(path, folder).replace(os.sep, '/')
