"""The checks every import runs on the records its reader gave.

In order: objects of classes outside ``--classes`` are dropped; each image
must exist, decode (the same test as the dataset pre-flight) and have the
size its annotation states; an image met a second time (the same file, or
the same bytes under another name) is dropped, so nothing is in both splits;
objects are clipped to their image. After the split, a class must have a
training example: one seen only in val is dropped, and so is a class of
``--classes`` seen nowhere.
"""
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

from ..checks import image_problem
from .records import BadRecords, ImageRecord
from .shapes import coco_object
from .statistics import measure_image

__all__ = ['drop_unknown_classes', 'check_images', 'fit_objects',
           'class_counts', 'select_classes']


def drop_unknown_classes(records: List[ImageRecord], classes: Sequence[str],
                         bad: BadRecords) -> List[ImageRecord]:
    """Drop the objects (or, for classification, the images) whose class is
    not in ``classes``."""
    known = set(classes)
    kept = []
    for rec in records:
        if rec.label is not None and rec.label not in known:
            bad.add('unknown-class', rec.source, rec.where,
                    f'class {rec.label!r} is not in --classes: skipped')
            continue
        for inst in rec.instances:
            if inst.label not in known:
                bad.add('unknown-class', rec.source, inst.where,
                        f'class {inst.label!r} is not in --classes: skipped')
        rec.instances = [i for i in rec.instances if i.label in known]
        kept.append(rec)
    return kept


def check_images(records: List[ImageRecord],
                 bad: BadRecords) -> List[ImageRecord]:
    """The records whose image is there, decodes, is not a duplicate and
    has the annotated size; each kept one gets its ``info``."""
    by_path: Dict[str, ImageRecord] = {}
    by_digest: Dict[str, ImageRecord] = {}
    kept = []
    for rec in records:
        key = osp.realpath(rec.path)
        first = by_path.get(key)
        if first is not None:
            bad.add('duplicate', rec.source, rec.where,
                    f'duplicate image: the same file as {first.where} of '
                    f'{first.source}: skipped')
            continue
        problem = image_problem(rec.path)
        if problem is None:
            try:
                rec.info = measure_image(rec.path)
            except (OSError, ValueError) as err:
                problem = f'image does not decode: {err}'
        if problem is not None:
            kind = ('image-missing' if not osp.isfile(rec.path)
                    else 'image-unreadable')
            bad.add(kind, rec.source, rec.where,
                    f'{problem} ({rec.path}): skipped')
            continue
        by_path[key] = rec
        first = by_digest.get(rec.info.digest)
        if first is not None:
            bad.add('duplicate', rec.source, rec.where,
                    f'duplicate image: the same content as {first.where} of '
                    f'{first.source}: skipped')
            continue
        size = (rec.info.width, rec.info.height)
        if rec.size is not None and tuple(rec.size) != size:
            bad.add('image-size', rec.source, rec.where,
                    f'the image is {size[0]}x{size[1]}, its annotation says '
                    f'{rec.size[0]}x{rec.size[1]}: skipped')
            continue
        by_digest[rec.info.digest] = rec
        kept.append(rec)
    return kept


def fit_objects(records: List[ImageRecord], bad: BadRecords) -> int:
    """Clip and measure every record's instances (``rec.objects``: the COCO
    fields plus ``label``); return how many were box-only.

    A box-only object keeps its box as polygon where some object of the
    set has a real shape (a Mask R-CNN config then reads every annotation);
    in a set of boxes only, no object gets a ``segmentation`` (the config
    writer then writes a box-only detector).
    """
    box_only = total = 0
    for rec in records:
        rec.objects = []
        for inst in rec.instances:
            fields = coco_object(inst, rec.info.width, rec.info.height,
                                 rec.source, bad)
            if fields is not None:
                box_only += inst.box is not None
                total += 1
                rec.objects.append(dict(fields, label=inst.label))
    if box_only == total:
        for rec in records:
            for obj in rec.objects:
                del obj['segmentation']
    return box_only


def class_counts(records: Sequence[ImageRecord]) -> Tuple[Counter, Counter]:
    """Per class: how many examples (objects, or images for classification
    and segmentation) and how many images hold it."""
    examples: Counter = Counter()
    images: Counter = Counter()
    for rec in records:
        labels = rec.labels()
        examples.update(labels)
        images.update(set(labels))
    return examples, images


def select_classes(train: List[ImageRecord], val: List[ImageRecord],
                   classes: Optional[Sequence[str]], bad: BadRecords,
                   class_source: str = '--classes'
                   ) -> Tuple[List[str], List[ImageRecord]]:
    """The classes with a training example (in ``classes`` order, else
    sorted) and the val records without the others' examples
    (``class_source``: where ``classes`` came from, for the report)."""
    train_examples, _ = class_counts(train)
    val_examples, val_images = class_counts(val)
    base = list(classes) if classes else sorted(
        set(train_examples) | set(val_examples))
    dropped = set()
    for name in base:
        if train_examples[name]:
            continue
        dropped.add(name)
        if val_examples[name]:
            source = next(r.source for r in val if name in r.labels())
            bad.add('val-only-class', source, f'class {name!r}',
                    f'seen only in val ({val_examples[name]} example(s) in '
                    f'{val_images[name]} image(s)): dropped from val and '
                    f'from the classes')
        else:
            bad.add('unused-class', class_source, f'class {name!r}',
                    'no example in train or val: dropped from the classes')
    kept = []
    for rec in val:
        if rec.label is not None and rec.label in dropped:
            continue
        rec.instances = [i for i in rec.instances if i.label not in dropped]
        if rec.objects is not None:
            rec.objects = [o for o in rec.objects
                           if o['label'] not in dropped]
        rec.mask_labels = tuple(c for c in rec.mask_labels
                                if c not in dropped)
        kept.append(rec)
    return [c for c in base if c not in dropped], kept
