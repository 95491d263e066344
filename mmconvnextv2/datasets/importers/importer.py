"""Import a dataset from the format an annotation tool wrote into the layout
our configs read, with ``dataset.json`` and ``import_report.json``.

The steps: read (one reader per format), drop objects of classes outside
``--classes``, check the images (there, decodable, of the annotated size,
no duplicates), clip the objects to their image, split (given val, or a
seeded fraction, optionally by name prefix), keep the classes that have a
training example, then write. Every bad record is skipped, counted and
named; with ``strict`` a bad record means nothing is written.
"""
import os.path as osp
import posixpath
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from . import coco, folders, labelme, masks, via, voc
from .records import BAD_KINDS, BadRecords, DatasetImportError, ImageRecord
from .splitting import split_by_fraction
from .statistics import dataset_figures
from .validation import (check_images, class_counts, drop_unknown_classes,
                         fit_objects, select_classes)
from .writers import (check_out, finish_out, prepare_out, write_cls,
                      write_det, write_seg)

__all__ = ['FORMATS', 'DEFAULT_VAL_FRACTION', 'ImportResult',
           'import_dataset', 'format_summary']

#: Format name -> reader module (``TASK``, ``read``).
FORMATS = {'coco': coco, 'via': via, 'labelme': labelme, 'voc': voc,
           'masks': masks, 'folders': folders}
#: Formats whose annotation folder is also the default image folder.
_IMAGES_IN_SRC = ('labelme', 'folders')
#: Share of val when neither ``val`` nor ``val_fraction`` is given.
DEFAULT_VAL_FRACTION = 0.2


@dataclass
class ImportResult:
    """What an import found and wrote.

    ``class_table``: split -> class -> examples (objects for det, images for
    seg and cls); ``box_only``: objects that had only a box; ``boxes_only``:
    the set had nothing else, so no ``segmentation`` was written;
    ``written``: False when ``strict`` met a bad record, or when ``problem``
    says why nothing could be written.
    """

    fmt: str
    task: str
    out: str
    classes: List[str]
    splits: Dict[str, List[ImageRecord]]
    bad: BadRecords
    dataset: Dict[str, Any]
    box_only: int = 0
    boxes_only: bool = False
    written: bool = False
    problem: str = ''
    class_table: Dict[str, Dict[str, int]] = field(default_factory=dict)


def _image_dir(fmt: str, src: str, images: Optional[str], flag: str) -> str:
    if images is None:
        if fmt not in _IMAGES_IN_SRC:
            raise DatasetImportError(f'{fmt}: give the image folder with '
                                     f'{flag}')
        images = src if osp.isdir(src) else osp.dirname(src)
    if not osp.isdir(images):
        raise DatasetImportError(f'{flag} {images} is not a folder')
    return images


def _read(fmt: str, src: str, images: str, bad: BadRecords,
          classes: Optional[Sequence[str]], class_attribute: Optional[str],
          split: Optional[str] = None) -> List[ImageRecord]:
    if not osp.exists(src):
        raise DatasetImportError(f'{fmt}: {src} does not exist')
    records = FORMATS[fmt].read(src, images, bad, classes=classes,
                                class_attribute=class_attribute)
    for rec in records:
        rec.split = split
    return records


def _write(out: str, task: str, splits: Dict[str, List[ImageRecord]],
           source_classes: Optional[Sequence[str]],
           classes: List[str]) -> Dict[str, Dict[str, str]]:
    """Write the task's layout into ``out``; the ``paths`` of each split."""
    prepare_out(out)
    if task == 'det':
        return write_det(out, splits, classes)
    if task == 'seg':
        return write_seg(out, splits, source_classes, classes)
    return write_cls(out, splits)


def _seg_suffix(records: Sequence[ImageRecord]) -> str:
    suffixes = sorted({posixpath.splitext(r.file_name)[1] for r in records})
    if len(suffixes) > 1:
        raise DatasetImportError(
            f'masks: the images have the extensions {", ".join(suffixes)}; '
            f"mmseg's dataset reads one (convert them to one format)")
    return suffixes[0] if suffixes else '.png'


def import_dataset(fmt: str, src: str, out: str,
                   images: Optional[str] = None, *,
                   val: Optional[str] = None,
                   val_images: Optional[str] = None,
                   val_fraction: Optional[float] = None,
                   split_seed: int = 0,
                   classes: Optional[Sequence[str]] = None,
                   group_by_prefix: bool = False,
                   class_attribute: Optional[str] = None,
                   strict: bool = False) -> ImportResult:
    """Import ``src`` (``fmt``: a key of :data:`FORMATS`) into ``out``.

    Args:
        fmt: The annotation format.
        src: The annotation file or folder (the class folders for
            ``folders``, the label maps for ``masks``).
        out: The folder written; nothing is written elsewhere.
        images: The image folder that the annotations' paths are relative
            to (``labelme`` and ``folders``: ``src`` by default).
        val: A second annotation file or folder, for val.
        val_images: Its image folder (by default ``images``; for labelme and
            folders, ``val``).
        val_fraction: Otherwise, the share of ``src`` drawn into val
            (:data:`DEFAULT_VAL_FRACTION` when neither is given).
        split_seed: Seed of that draw.
        classes: The classes, in this order (``masks``: in index order);
            objects of other classes are bad records.
        group_by_prefix: Draw val by file-name prefix (frames of one
            sequence stay on one side).
        class_attribute: VIA: the region attribute holding the class.
        strict: Write nothing when there is a bad record.

    Raises:
        AnnotationFileError: An annotation file cannot be read at all.
        DatasetImportError: The import cannot run as asked.
    """
    if fmt not in FORMATS:
        raise DatasetImportError(f'unknown format {fmt!r}; one of '
                                 f'{", ".join(FORMATS)}')
    if val is not None and val_fraction is not None:
        raise DatasetImportError('give --val or --val-fraction, not both')
    if val is None and val_images is not None:
        raise DatasetImportError('--val-images goes with --val')
    if val is not None and group_by_prefix:
        raise DatasetImportError('--group-by-prefix applies to a split by '
                                 'fraction, not to a given --val')
    task = FORMATS[fmt].TASK
    images = _image_dir(fmt, src, images, '--images')
    inputs = [src, images]
    if val is not None:
        val_images = _image_dir(
            fmt, val, val_images or (None if fmt in _IMAGES_IN_SRC
                                     else images), '--val-images')
        inputs += [val, val_images]
    check_out(out, inputs)
    bad = BadRecords()
    class_source = '--classes'
    if task == 'seg':
        if not classes:
            class_source = osp.join(src, masks.CLASSES_FILE)
        classes = masks.resolve_classes(src, classes)
    records = _read(fmt, src, images, bad, classes, class_attribute)
    if val is not None:
        records += _read(fmt, val, val_images, bad, classes,
                         class_attribute, split='val')
    if classes and task != 'seg':
        records = drop_unknown_classes(records, classes, bad)
    records = check_images(records, bad)
    box_only = fit_objects(records, bad) if task == 'det' else 0
    if val is None:
        fraction = DEFAULT_VAL_FRACTION if val_fraction is None \
            else val_fraction
        train, val_split = split_by_fraction(
            records, [r.file_name for r in records], fraction, split_seed,
            group_by_prefix)
    else:
        train = [r for r in records if r.split != 'val']
        val_split = [r for r in records if r.split == 'val']
    kept, val_split = select_classes(train, val_split, classes, bad,
                                     class_source)
    splits = {'train': train, 'val': val_split}
    figures = dataset_figures([r.info for r in train + val_split],
                              [r.info for r in train])
    dataset: Dict[str, Any] = {
        'task': task, 'classes': kept,
        'splits': {name: len(recs) for name, recs in splits.items()},
        **figures, 'paths': None, 'source': fmt}
    if task == 'seg':
        dataset.update(img_suffix=_seg_suffix(train + val_split),
                       seg_map_suffix='.png', ignore_index=masks.IGNORE_INDEX)
    result = ImportResult(
        fmt=fmt, task=task, out=out, classes=kept, splits=splits, bad=bad,
        dataset=dataset, box_only=box_only,
        boxes_only=task == 'det' and not any(
            'segmentation' in obj for rec in records for obj in rec.objects),
        class_table={name: dict(class_counts(recs)[0])
                     for name, recs in splits.items()})
    if not train:
        result.problem = (f'no image left for train ({len(bad)} bad '
                          f'record(s)): nothing written')
    if result.problem or (strict and len(bad)):
        return result
    dataset['paths'] = _write(out, task, splits, classes, kept)
    finish_out(out, dataset, {
        'source': fmt, 'inputs': inputs, 'splits': dataset['splits'],
        'examples_per_class': result.class_table,
        'box_only_objects': box_only,
        'without_segmentation': result.boxes_only, 'bad_counts': bad.counts(),
        'bad_records': bad.to_json(), 'bad_kinds': BAD_KINDS})
    result.written = True
    return result


def format_summary(result: ImportResult) -> str:
    """The summary the tool prints: counts per split and class, then every
    bad record on one line (``file: record: why``)."""
    splits = result.dataset['splits']
    unit = {'det': 'objects', 'seg': 'images', 'cls': 'images'}[result.task]
    lines = [f'{result.fmt} ({result.task}): {len(result.classes)} classes, '
             f'train {splits["train"]} images, val {splits["val"]} images']
    width = max([len(c) for c in result.classes] + [5])
    lines.append(f'  {"class":<{width}}  {"train":>7}  {"val":>7}  ({unit})')
    for name in result.classes:
        counts = [result.class_table[s].get(name, 0) for s in ('train',
                                                               'val')]
        lines.append(f'  {name:<{width}}  {counts[0]:>7}  {counts[1]:>7}')
    if result.boxes_only:
        lines.append('boxes only: written without segmentation')
    elif result.box_only:
        lines.append(f'{result.box_only} box-only objects: written with '
                     f'their box as segmentation polygon')
    counts = result.bad.counts()
    lines.append(f'bad records: {len(result.bad)}' + (
        ' (' + ', '.join(f'{k} {counts[k]}' for k in result.bad.kinds())
        + ')' if counts else ''))
    lines += [f'  {item}' for item in result.bad]
    if result.written:
        lines.append(f'written to {result.out} (dataset.json, '
                     f'import_report.json)')
    elif not result.problem:
        lines.append(f'--strict: {len(result.bad)} bad record(s), nothing '
                     f'written')
    return '\n'.join(lines)
