"""What the main job on your data trains on, kept apart from what it reports:
the learning-rate sweep's split of the *training* set (sweep-train /
sweep-val, by file-name prefix groups, the importer's splitting), and the
images FCMAE pre-trains on (the training images, plus ``--unlabelled``
frames), each checked against the validation images: no sweep run and no
pre-training ever sees one.
"""
import hashlib
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from mmconvnextv2.datasets.dataset_info import (DatasetInfo, labelled_images,
                                                training_images)
from mmconvnextv2.datasets.importers.records import DatasetImportError
from mmconvnextv2.datasets.importers.splitting import split_by_fraction
from mmconvnextv2.utils import list_images, write_atomically, write_json
from mmconvnextv2.utils.errors import reported

__all__ = ['SWEEP_VAL_FRACTION', 'DataJobError', 'SweepSplit',
           'split_images', 'image_paths', 'write_sweep_split', 'file_digest',
           'check_apart', 'write_pretrain_list']

#: Share of the training images the sweep validates on.
SWEEP_VAL_FRACTION = 0.25


@reported
class DataJobError(ValueError):
    """The main job cannot run on this data as asked."""


@dataclass
class SweepSplit:
    """The sweep's split of the training images (names relative to the
    training image folder), its files, and the ``--cfg-options`` that train
    on sweep-train and validate / test on sweep-val."""
    train: List[str]
    val: List[str]
    grouped: bool  #: by file-name prefix (False: too few groups for that)
    files: Dict[str, str]
    options: List[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line: the counts and how they were drawn."""
        how = 'frames of one name prefix on one side' if self.grouped else \
            'frame by frame (the training images form one name group)'
        return (f'sweep-train {len(self.train)} / sweep-val {len(self.val)} '
                f'of the training images ({how}; never a validation image)')


def _coco(info: DatasetInfo, split: str) -> dict:
    with open(osp.join(info.root, info.paths[split]['ann_file']),
              encoding='utf-8') as f:
        return json.load(f)


def split_images(info: DatasetInfo, split: str) -> List[str]:
    """The images of ``split``, relative to its image folder
    (``paths.<split>.img``)."""
    if split == 'train':
        return training_images(info)
    if info.task == 'det':
        return sorted(img['file_name'] for img in _coco(info, 'val')['images'])
    if info.task == 'cls':
        return [line.rsplit(' ', 1)[0]
                for line in labelled_images(info, split)]
    folder = osp.join(info.root, info.paths[split]['img'])
    return [osp.relpath(p, folder) for p in list_images(folder)]


def image_paths(info: DatasetInfo, split: str,
                names: Optional[Sequence[str]] = None) -> Set[str]:
    """The real paths of ``names`` (default: every image) of ``split``."""
    folder = osp.join(info.root, info.paths[split]['img'])
    names = split_images(info, split) if names is None else names
    return {osp.realpath(osp.join(folder, n)) for n in names}


def _draw(names: List[str], seed: int) -> Tuple[List[str], List[str], bool]:
    """(sweep-train, sweep-val, grouped): by name prefix where the groups
    allow it, else frame by frame."""
    for grouped in (True, False):
        try:
            train, val = split_by_fraction(names, names, SWEEP_VAL_FRACTION,
                                           seed, group_by_prefix=grouped)
            return train, val, grouped
        except DatasetImportError:
            continue
    raise DataJobError(
        f'{len(names)} training image(s): too few to split for the '
        'learning-rate sweep; give every rate (--lr-fcmae, --lr-random, '
        '--lr-init)')


def _det_files(info: DatasetInfo, out: str, parts: Dict[str, List[str]]
               ) -> Tuple[Dict[str, str], List[str]]:
    coco = _coco(info, 'train')
    files, options = {}, []
    for part, names in parts.items():
        keep = set(names)
        images = [img for img in coco['images'] if img['file_name'] in keep]
        ids = {img['id'] for img in images}
        files[part] = osp.abspath(osp.join(out, f'{part}.json'))
        write_json(files[part], dict(coco, images=images, annotations=[
            a for a in coco['annotations'] if a['image_id'] in ids]))
    options.append(f'train_dataloader.dataset.ann_file={files["train"]}')
    for loader in ('val', 'test'):
        options += [
            f'{loader}_dataloader.dataset.ann_file={files["val"]}',
            f'{loader}_dataloader.dataset.data_prefix.img='
            f'{info.paths["train"]["img"]}',
            f'{loader}_evaluator.ann_file={files["val"]}']
    return files, options


def _list_files(info: DatasetInfo, out: str, parts: Dict[str, List[str]]
                ) -> Tuple[Dict[str, str], List[str]]:
    """seg: image stems (mmseg's ``ann_file``); cls: ``image label``
    lines (mmpretrain's)."""
    labels = dict(line.rsplit(' ', 1) for line in
                  labelled_images(info, 'train')) if info.task == 'cls' \
        else {}
    files = {}
    for part, names in parts.items():
        lines = [f'{n} {labels[n]}' for n in names] if labels else \
            [osp.splitext(n)[0] for n in names]
        files[part] = osp.abspath(osp.join(out, f'{part}.txt'))
        write_atomically(files[part], ''.join(f'{x}\n' for x in lines))
    train = info.paths['train']
    options = [f'train_dataloader.dataset.ann_file={files["train"]}']
    for loader in ('val', 'test'):
        where = f'{loader}_dataloader.dataset'
        options.append(f'{where}.ann_file={files["val"]}')
        if info.task == 'cls':
            options.append(f'{where}.data_prefix={train["img"]}')
        else:
            suffix = osp.splitext(parts['train'][0])[1]
            options += [f'{where}.data_prefix.img_path={train["img"]}',
                        f'{where}.data_prefix.seg_map_path='
                        f'{train["seg_map"]}',
                        f'{where}.img_suffix={suffix}']
    return files, options


def write_sweep_split(info: DatasetInfo, out: str, seed: int) -> SweepSplit:
    """Split the training images into sweep-train / sweep-val (seeded, by
    name prefix where possible), write their annotation files into
    ``out`` and check that neither holds a validation image.

    Raises:
        DataJobError: Too few training images to split.
    """
    names = split_images(info, 'train')
    train, val, grouped = _draw(names, seed)
    os.makedirs(out, exist_ok=True)
    parts = {'train': sorted(train), 'val': sorted(val)}
    writer = _det_files if info.task == 'det' else _list_files
    files, options = writer(info, out, parts)
    split = SweepSplit(parts['train'], parts['val'], grouped, files, options)
    check_apart(image_paths(info, 'train', split.train + split.val),
                info, 'the learning-rate sweep')
    return split


def file_digest(path: str) -> str:
    """The SHA-1 of a file's content."""
    with open(path, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()


def check_apart(paths: Set[str], info: DatasetInfo, what: str) -> None:
    """Raise :class:`DataJobError` when one of ``paths`` is a validation
    image: the same file, or a copy of one (same size and content)."""
    val = image_paths(info, 'val')
    same = sorted(paths & val)
    if same:
        raise DataJobError(f'{what} would read the validation image '
                           f'{same[0]} ({len(same)} in all); it never may')
    by_size: Dict[int, List[str]] = {}
    for path in val:
        by_size.setdefault(osp.getsize(path), []).append(path)
    digests: Dict[str, str] = {}
    for path in sorted(paths):
        twins = by_size.get(osp.getsize(path), [])
        if not twins:
            continue
        for twin in twins:
            digests.setdefault(twin, file_digest(twin))
        digest = file_digest(path)
        for twin in twins:
            if digests[twin] == digest:
                raise DataJobError(
                    f'{what} would read {path}, a copy of the validation '
                    f'image {twin}; it never may')


def write_pretrain_list(info: DatasetInfo, image_list: str,
                        unlabelled: Optional[str] = None) -> Dict[str, int]:
    """Append the images under ``unlabelled`` (absolute paths; a training
    image again is left out) to the FCMAE config's list of training images,
    and check that no listed image is a validation image. Returns the
    counts: ``train``, ``unlabelled``, ``total``.

    Raises:
        DataJobError: A listed image is a validation image or a copy of
            one; ``unlabelled`` holds no image.
    """
    with open(image_list, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    folder = osp.join(info.root, info.paths['train']['img'])
    listed = {osp.realpath(osp.join(folder, n)) for n in names}
    extra: List[str] = []
    if unlabelled:
        try:
            found = list_images(unlabelled)
        except FileNotFoundError as err:
            raise DataJobError(f'--unlabelled: {err}') from None
        for path in found:
            real = osp.realpath(path)
            if real not in listed:
                listed.add(real)
                extra.append(osp.abspath(path))
    check_apart(listed, info, 'FCMAE pre-training')
    if extra:
        write_atomically(image_list, ''.join(
            f'{line}\n' for line in names + extra))
    return dict(train=len(names), unlabelled=len(extra),
                total=len(names) + len(extra))
