"""Writers of the imported dataset, each in the layout its configs read.

* det: ``images/<file_name>`` and ``annotations/{train,val}.json`` (COCO,
  categories 1..K in class order, image and annotation ids unique over both
  files);
* seg: ``images/<split>/<name>`` and ``annotations/<split>/<stem>.png``
  (uint8 label maps, class index 0..K-1, 255 = ignore: mmseg's
  ``BaseSegDataset`` with ``img_path='images/<split>'``,
  ``seg_map_path='annotations/<split>'``);
* cls: ``<split>/<class>/<file>`` (mmpretrain's ``CustomDataset``).

Every file is written atomically; an image is hard-linked, else
symbolic-linked, else copied, and its source is never opened for writing.
OUT may not lie inside an input, nor an input inside OUT. While an import
runs, OUT holds :data:`INCOMPLETE`; a folder with it, or with an earlier
import's ``dataset.json``, is cleared of the import's own entries and
written again; any other non-empty folder is refused.
"""
import os
import os.path as osp
import posixpath
import shutil
from typing import Any, Dict, List, Sequence

import numpy as np

from ...utils.fileio import write_atomically, write_json, write_via_temp
from .records import DatasetImportError, ImageRecord

__all__ = ['INCOMPLETE', 'DATASET_FILE', 'REPORT_FILE', 'check_out',
           'prepare_out',
           'link_image', 'write_det', 'write_seg', 'write_cls',
           'finish_out']

#: Present in OUT while an import writes it.
INCOMPLETE = '.import-incomplete'
DATASET_FILE = 'dataset.json'
REPORT_FILE = 'import_report.json'
_OWN = ('images', 'annotations', 'train', 'val', DATASET_FILE, REPORT_FILE,
        INCOMPLETE)
SPLITS = ('train', 'val')


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_out(out: str, inputs: Sequence[str]) -> None:
    """Refuse an ``out`` that overlaps ``inputs`` (the annotation files and
    folders, the image folders) or is a non-empty folder that holds no
    earlier import."""
    out_real = osp.realpath(out)
    for item in inputs:
        real = osp.realpath(item)
        if _inside(out_real, real) or _inside(real, out_real):
            raise DatasetImportError(
                f'--out {out} and the input {item} overlap: write the '
                f'import to a folder outside the source (and not around it)')
    if osp.isfile(out):
        raise DatasetImportError(f'--out {out} is a file')
    if osp.isdir(out) and os.listdir(out) and not any(
            osp.exists(osp.join(out, name))
            for name in (DATASET_FILE, INCOMPLETE)):
        raise DatasetImportError(
            f'--out {out} is not empty and holds no earlier import: give an '
            f'empty or new folder')


def prepare_out(out: str) -> None:
    """Clear an earlier import's entries from ``out`` (checked with
    :func:`check_out`) and mark it incomplete."""
    for name in _OWN:
        path = osp.join(out, name)
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path)
        elif osp.lexists(path):
            os.remove(path)
    write_atomically(osp.join(out, INCOMPLETE), 'import under way\n')


def finish_out(out: str, dataset: Dict[str, Any],
               report: Dict[str, Any]) -> None:
    """Write ``import_report.json``, then ``dataset.json``, and mark the
    import complete."""
    write_json(osp.join(out, REPORT_FILE), report)
    write_json(osp.join(out, DATASET_FILE), dataset)
    os.remove(osp.join(out, INCOMPLETE))


def link_image(src: str, dst: str) -> None:
    """``dst`` as a hard link to ``src``, else a symbolic link, else a
    copy, put in place atomically."""
    def fill(tmp: str) -> None:
        try:
            os.link(src, tmp)
            return
        except OSError:
            pass
        try:
            os.symlink(osp.abspath(src), tmp)
            return
        except OSError:
            pass
        shutil.copyfile(src, tmp)

    write_via_temp(dst, fill)


def _unique_names(splits: Dict[str, List[ImageRecord]]) -> Dict[int, str]:
    """Output name per record (by ``id``): its ``file_name``, prefixed with
    its split when another file already took that name (train and val from
    two image folders)."""
    taken: Dict[str, str] = {}
    names = {}
    for split, records in splits.items():
        for rec in records:
            name, n = rec.file_name, 0
            while taken.get(name, rec.path) != rec.path:
                n += 1
                name = posixpath.join(split if n == 1 else f'{split}-{n}',
                                      rec.file_name)
            taken[name] = rec.path
            names[id(rec)] = name
    return names


def write_det(out: str, splits: Dict[str, List[ImageRecord]],
              classes: Sequence[str]) -> Dict[str, Dict[str, str]]:
    """The COCO layout; returns ``paths`` for ``dataset.json``."""
    category = {name: i + 1 for i, name in enumerate(classes)}
    categories = [{'id': i, 'name': name} for name, i in category.items()]
    names = _unique_names(splits)
    image_id = ann_id = 0
    paths = {}
    for split in SPLITS:
        images, annotations = [], []
        for rec in splits.get(split, []):
            image_id += 1
            name = names[id(rec)]
            link_image(rec.path, osp.join(out, 'images', name))
            images.append({'id': image_id, 'file_name': name,
                           'width': rec.info.width,
                           'height': rec.info.height})
            for obj in rec.objects or []:
                ann_id += 1
                fields = {k: v for k, v in obj.items() if k != 'label'}
                annotations.append(dict(
                    id=ann_id, image_id=image_id,
                    category_id=category[obj['label']], **fields))
        ann_file = f'annotations/{split}.json'
        write_json(osp.join(out, ann_file),
                   {'images': images, 'annotations': annotations,
                    'categories': categories}, indent=None)
        paths[split] = {'ann_file': ann_file, 'img': 'images'}
    return paths


def write_seg(out: str, splits: Dict[str, List[ImageRecord]],
              source_classes: Sequence[str],
              classes: Sequence[str]) -> Dict[str, Dict[str, str]]:
    """The mmseg layout; label maps are re-indexed from ``source_classes``
    to ``classes`` (a dropped class becomes 255)."""
    from PIL import Image

    from .masks import IGNORE_INDEX, read_label_map
    lut = np.full(65536, IGNORE_INDEX, dtype=np.uint8)
    for old, name in enumerate(source_classes):
        if name in classes:
            lut[old] = classes.index(name)
    paths = {}
    for split in SPLITS:
        for rec in splits.get(split, []):
            stem = posixpath.splitext(rec.file_name)[0]
            link_image(rec.path, osp.join(out, 'images', split,
                                          rec.file_name))
            label_map = lut[read_label_map(rec.mask).astype(np.int64)]
            write_via_temp(
                osp.join(out, 'annotations', split, stem + '.png'),
                lambda tmp, m=label_map: Image.fromarray(m).save(
                    tmp, format='PNG'))
        os.makedirs(osp.join(out, 'images', split), exist_ok=True)
        os.makedirs(osp.join(out, 'annotations', split), exist_ok=True)
        paths[split] = {'ann_file': '', 'img': f'images/{split}',
                        'seg_map': f'annotations/{split}'}
    return paths


def write_cls(out: str, splits: Dict[str, List[ImageRecord]]
              ) -> Dict[str, Dict[str, str]]:
    """The class-folder layout (``file_name`` starts with the class)."""
    paths = {}
    for split in SPLITS:
        for rec in splits.get(split, []):
            link_image(rec.path, osp.join(out, split, rec.file_name))
        os.makedirs(osp.join(out, split), exist_ok=True)
        paths[split] = {'ann_file': '', 'img': split}
    return paths
