"""``dataset.json`` of an imported data folder, read and checked, and the
sizes a config for it is written with (:func:`make_plan`).

The folder is what ``tools/dataset_converters/import_dataset.py`` writes:

* ``det``: ``images/``, ``annotations/{train,val}.json`` (COCO);
* ``seg``: ``images/{train,val}/``, ``annotations/{train,val}/<stem>.png``;
* ``cls``: ``{train,val}/<class>/<image>``;
* ``dataset.json``: ``task``, ``classes``, ``splits``, ``image_sizes``,
  ``channels``, ``dtype``, ``mean`` / ``std`` (per channel: RGB for
  colour, else the bands in their stored order; in the pixels' range),
  ``paths`` (per split: ``ann_file`` and ``img``, relative to the folder;
  for ``seg`` the label maps' folder is ``seg_map``, else ``ann_file``)
  and ``source``.
"""
import json
import math
import os
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ..models.data_preprocessors import MAX_CHANNELS
from ..utils.errors import reported
from ..utils.paths import list_images

__all__ = ['TASKS', 'DatasetInfoError', 'DatasetInfo', 'read_dataset_info',
           'Schedule', 'Plan', 'fcmae_crops', 'make_plan', 'training_images', 'has_masks',
           'labelled_images']

TASKS = ('det', 'seg', 'cls')
#: The long side frames are resized to by default, at most (CPU training).
MAX_LONG_SIDE = 512
#: The square crop of a classifier by default, at most (ImageNet's).
MAX_CLS_CROP = 224
#: Images per batch by default (the parents' CPU sizes), per task.
BATCH = {'det': 2, 'seg': 2, 'cls': 16}
FCMAE_BATCH = 16
EPOCHS = 12          #: fine-tuning epochs by default (mmdet's 1x schedule)
FCMAE_EPOCHS = 100   #: pre-training epochs by default
MIN_ITERS = 100
PATCH = 32           #: FCMAE's patch: its crops are multiples of it


@reported
class DatasetInfoError(ValueError):
    """``dataset.json`` or the folder it describes cannot be used."""


@dataclass(frozen=True)
class DatasetInfo:
    """What ``dataset.json`` says, checked."""
    root: str                            #: the data folder (absolute)
    task: str
    classes: Tuple[str, ...]
    splits: Dict[str, int]               #: images per split
    median_size: Tuple[int, int]         #: (width, height)
    #: per channel: 3 values (RGB, 0-255) for 8-bit grey or colour images
    #: read as colour, else one a band (see :attr:`any_channels`)
    mean: Tuple[float, ...]
    std: Tuple[float, ...]
    #: split -> ann_file, img (and for seg seg_map: the label maps' folder)
    paths: Dict[str, Dict[str, str]]
    source: str = ''
    channels: int = 3                    #: the images' bands
    dtype: str = 'uint8'                 #: their dtype(s), ``|``-joined

    @property
    def any_channels(self) -> bool:
        """Whether the images are other than 8-bit colour (or 8-bit grey
        with RGB stats): then the configs load them as they are
        (``LoadAnyImageFromFile``) into a C-channel model."""
        return self.channels != 3 or self.dtype != 'uint8'


def _key(data: Any, key: str, kind: Any, file: str) -> Any:
    """``data[key]`` (``key`` dotted) of type ``kind``, else a one-line
    error naming the file and the key."""
    value = data
    for part in key.split('.'):
        if not isinstance(value, dict) or part not in value:
            raise DatasetInfoError(f'{file}: key {key!r} is missing')
        value = value[part]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DatasetInfoError(f'{file}: key {key!r} is {value!r}, not '
                               f'{getattr(kind, "__name__", "a number")}')
    return value


def _numbers(data: dict, key: str, count: int, file: str,
             positive: bool = False, signed: bool = False) -> List[float]:
    """``count`` numbers, positive, any (``signed``: float pixels) or else
    non-negative."""
    values = _key(data, key, list, file)
    if len(values) != count or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            and (v > 0 if positive else signed or v >= 0) for v in values):
        what = 'positive' if positive else 'real' if signed else \
            'non-negative'
        raise DatasetInfoError(f'{file}: key {key!r} is {values!r}, not '
                               f'{count} {what} numbers')
    return [float(v) for v in values]


def _per_channel(values: List[float], channels: int,
                 dtype: str) -> Tuple[float, ...]:
    """The values as dataset.json gives them (one a band) for other than
    8-bit colour images; for 8-bit colour, RGB rounded to 3 decimals."""
    if channels != 3 or dtype != 'uint8':
        return tuple(values)
    return tuple(round(v, 3) for v in values)


def read_dataset_info(root: str, task: Optional[str] = None) -> DatasetInfo:
    """Read and check ``root/dataset.json``.

    Args:
        root: The data folder.
        task: The task asked for; it must be the file's (None: the file's).

    Raises:
        DatasetInfoError: The file is missing, not JSON, lacks a key, has a
            value of the wrong kind, or names another task (one line, naming
            the file and the key).
    """
    file = osp.join(root, 'dataset.json')
    try:
        with open(file, encoding='utf-8') as f:
            data = json.load(f)
    except OSError as err:
        raise DatasetInfoError(
            f'{file}: cannot be read ({err.strerror or err}); write the '
            'folder with tools/dataset_converters/import_dataset.py') from None
    except ValueError as err:
        raise DatasetInfoError(f'{file}: not valid JSON: {err}') from None
    if not isinstance(data, dict):
        raise DatasetInfoError(f'{file}: not a JSON object')
    found = _key(data, 'task', str, file)
    if found not in TASKS:
        raise DatasetInfoError(f"{file}: key 'task' is {found!r}, not one "
                               f'of {list(TASKS)}')
    if task is not None and task != found:
        raise DatasetInfoError(f"{file}: key 'task' is {found!r}, but the "
                               f'task asked for is {task!r}')
    classes = _key(data, 'classes', list, file)
    if not classes or not all(isinstance(c, str) and c for c in classes) \
            or len(set(classes)) != len(classes):
        raise DatasetInfoError(f"{file}: key 'classes' must be a list of "
                               f'distinct names, got {classes!r}')
    splits = {s: _key(data, f'splits.{s}', int, file) for s in ('train',
                                                                'val')}
    for split, count in splits.items():
        if count < 1:
            raise DatasetInfoError(f"{file}: key 'splits.{split}' is "
                                   f'{count}: the split has no image')
    median = _numbers(data, 'image_sizes.median', 2, file, positive=True)
    channels = _key(data, 'channels', int, file)
    if not 1 <= channels <= MAX_CHANNELS:
        raise DatasetInfoError(f"{file}: key 'channels' is {channels}, not "
                               f'1 to {MAX_CHANNELS}')
    dtype = data.get('dtype') or 'uint8'
    if not isinstance(dtype, str):
        raise DatasetInfoError(f"{file}: key 'dtype' is {dtype!r}, not str")
    mean = _numbers(data, 'mean', channels, file, signed=dtype != 'uint8')
    std = _numbers(data, 'std', channels, file, positive=True)
    paths = {split: {k: _key(data, f'paths.{split}.{k}', str, file)
                     for k in ('ann_file', 'img')} for split in splits}
    if found == 'seg':  # the label maps' folder: seg_map, else ann_file
        for split, entry in paths.items():
            entry['seg_map'] = data['paths'][split].get('seg_map') or \
                entry['ann_file']
            if not isinstance(entry['seg_map'], str) or not entry['seg_map']:
                raise DatasetInfoError(f"{file}: key 'paths.{split}.seg_map' "
                                       '(or ann_file) names no folder')
    source = data.get('source')
    return DatasetInfo(
        root=osp.abspath(root), task=found, classes=tuple(classes),
        splits=splits, median_size=(round(median[0]), round(median[1])),
        mean=_per_channel(mean, channels, dtype),
        std=_per_channel(std, channels, dtype),
        paths=paths, source=source if isinstance(source, str) else '',
        channels=channels, dtype=dtype)


# --------------------------------------------------------------------------
# What the data holds beyond dataset.json
# --------------------------------------------------------------------------
def _coco(info: DatasetInfo, split: str) -> dict:
    file = osp.join(info.root, info.paths[split]['ann_file'])
    try:
        with open(file, encoding='utf-8') as f:
            content = json.load(f)
    except (OSError, ValueError) as err:
        raise DatasetInfoError(f'{file}: cannot be read as JSON '
                               f'({err})') from None
    if not isinstance(content, dict) or not all(
            isinstance(content.get(k), list) for k in ('images',
                                                       'annotations')):
        raise DatasetInfoError(f'{file}: not COCO (needs the lists '
                               '"images" and "annotations")')
    return content


def has_masks(info: DatasetInfo) -> bool:
    """Whether every object of a ``det`` folder has a polygon or mask (then
    Mask R-CNN learns masks; else the config is boxes only)."""
    return all(ann.get('segmentation')
               for split in ('train', 'val')
               for ann in _coco(info, split)['annotations']
               if isinstance(ann, dict))


def _folder_images(info: DatasetInfo, split: str) -> List[str]:
    folder = osp.join(info.root, info.paths[split]['img'])
    try:
        return [osp.relpath(p, folder) for p in list_images(folder)]
    except FileNotFoundError as err:
        raise DatasetInfoError(f'{info.root}/dataset.json: '
                               f"paths.{split}.img: {err}") from None


def training_images(info: DatasetInfo) -> List[str]:
    """The training images, relative to the training image prefix
    (``paths.train.img``); an image also listed for val is left out."""
    if info.task == 'cls':
        return [line.rsplit(' ', 1)[0]
                for line in labelled_images(info, 'train')]
    if info.task == 'seg':
        return _folder_images(info, 'train')
    names = [[img.get('file_name') for img in _coco(info, s)['images']
              if isinstance(img, dict)] for s in ('train', 'val')]
    val = set(names[1])
    return sorted({n for n in names[0] if isinstance(n, str)} - val)


def labelled_images(info: DatasetInfo, split: str) -> List[str]:
    """``<class>/<image> <label>`` lines of a ``cls`` split, the label
    being the class's index in ``classes``: an annotation file for
    mmpretrain's CustomDataset, which would otherwise number the classes by
    the sorted folders of each split (another order, or other numbers where
    a split lacks a class)."""
    folder = osp.join(info.root, info.paths[split]['img'])
    found = sorted(d for d in os.listdir(folder)
                   if osp.isdir(osp.join(folder, d))) \
        if osp.isdir(folder) else []
    stray = [d for d in found if d not in info.classes]
    if stray or not found:
        raise DatasetInfoError(
            f'{folder}: class folders {stray or found} are not the classes '
            f'{list(info.classes)} of {info.root}/dataset.json (key '
            "'classes')")
    lines = []
    for label, name in enumerate(info.classes):
        if name in found:
            lines += [f'{name}/{osp.relpath(path, osp.join(folder, name))} '
                      f'{label}' for path in list_images(
                          osp.join(folder, name))]
    return lines


def _suffix(info: DatasetInfo, split: str) -> str:
    """The one image extension of a ``seg`` split (mmseg matches images to
    label maps by it, case included)."""
    found = {osp.splitext(n)[1] for n in _folder_images(info, split)}
    if len(found) != 1:
        raise DatasetInfoError(
            f'{osp.join(info.root, info.paths[split]["img"])}: images of '
            f'{len(found)} extensions {sorted(found)}; mmseg reads one')
    return found.pop()


# --------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    """An iteration budget with its validation / checkpoint interval
    (~iters / 4) and linear warm-up (~iters / 10, at most 500)."""
    iters: int
    note: str
    validated: bool = True  #: validation at each checkpoint

    @property
    def interval(self) -> int:
        return max(1, self.iters // 4)

    @property
    def warmup(self) -> int:
        return min(500, max(1, self.iters // 10))


@dataclass(frozen=True)
class Plan:
    """The sizes a config is written with, each with the rule it came
    from (written as a comment)."""
    arch: str
    channels: List[int]          #: the backbone's stage widths
    layer_ids: int               #: layer ids of layer-wise lr decay
    image_size: int              #: det/seg: long side; cls: crop side
    scale_note: str
    crop: int                    #: seg and FCMAE: the square crop
    crop_note: str
    batch_size: int
    schedule: Schedule
    masks: bool                  #: det: every object has a mask
    labels: Dict[str, List[str]]  #: cls: ``image label`` lines per split
    suffixes: Dict[str, str]     #: seg: image extension per split
    images: List[str]            #: FCMAE: the training images
    pretrain_batch: int
    pretrain: Schedule
    pretrain_crop_range: Tuple[float, float]
    pretrain_note: str


def _epochs(count: int, batch: int, epochs: int, given: Optional[int],
            what: str, validated: bool = True) -> Schedule:
    if given is not None:
        if given < 2:
            raise DatasetInfoError(f'{what}: {given} iterations; at least 2')
        return Schedule(given, f'{given} iterations ({what})', validated)
    per_epoch = math.ceil(count / batch)
    iters = max(MIN_ITERS, epochs * per_epoch)
    each = f'{per_epoch} iteration{"s" if per_epoch > 1 else ""} each'
    return Schedule(iters, f'{iters} iterations: {epochs} epochs of the '
                    f'{count} training images at batch {batch} ({each}), at '
                    f'least {MIN_ITERS}', validated)


def _scale(median_size: Tuple[int, int], image_size: Optional[int]
           ) -> Tuple[int, str, int, str]:
    """(image size, its note, crop, its note) for det and seg."""
    w, h = median_size
    long, short = max(w, h), min(w, h)
    if image_size is None:
        image_size = min(long, MAX_LONG_SIDE)
        why = (f'the median frame ({w}x{h}) long side, at most '
               f'{MAX_LONG_SIDE} (CPU training); --image-size sets it')
    else:
        why = '--image-size'
    note = (f'frames resized to {image_size} px on the long side, aspect '
            f'ratio kept: {why}')
    resized_short = round(image_size * short / long)
    crop = max(2 * PATCH, min(image_size, resized_short) // PATCH * PATCH)
    crop_note = (f'the largest square of multiples of {PATCH} px in the '
                 f'resized median frame ({round(image_size * w / long)}x'
                 f'{round(image_size * h / long)}), at least {2 * PATCH}')
    return image_size, note, crop, crop_note


def _cls_scale(info: DatasetInfo, image_size: Optional[int]
               ) -> Tuple[int, str]:
    """(crop side, its note) for cls."""
    w, h = info.median_size
    if image_size is not None:
        why = '--image-size'
    else:
        image_size = max(2 * PATCH, min(MAX_CLS_CROP, min(w, h))
                         // PATCH * PATCH)
        why = (f'the median image ({w}x{h}) short side in multiples of '
               f'{PATCH}, at most {MAX_CLS_CROP}; --image-size sets it')
    return image_size, f'square crops of {image_size} px: {why}'


def _pretrain_crops(median_size: Tuple[int, int], image_size: int,
                    crop: int) -> Tuple[Tuple[float, float], str]:
    """FCMAE's crop area range for det and seg, and its note: within a
    factor 2 of the share of a frame that a ``crop`` covers at the
    fine-tuning scale (``image_size`` px long side)."""
    long, short = max(median_size), min(median_size)
    share = min(1.0, crop ** 2 * long / (image_size ** 2 * short))
    low, high = round(max(0.05, share / 2), 3), round(min(1.0, share * 2), 3)
    return (low, high), (
        f'{crop}-px crops of {low:.0%}-{high:.0%} of a frame: within a '
        f'factor 2 of the share ({share:.0%}) that a {crop}-px crop covers '
        f'at the fine-tuning scale ({image_size} px long side)')


def fcmae_crops(median_size: Tuple[int, int]
                ) -> Tuple[int, Tuple[float, float], str]:
    """FCMAE's square crop, its crop-area range and their note for frames
    of ``median_size`` (width, height): the det/seg rule of
    :func:`make_plan` at its default fine-tuning scale."""
    image_size, _, crop, _ = _scale(median_size, None)
    crop_range, note = _pretrain_crops(median_size, image_size, crop)
    return crop, crop_range, note


def make_plan(info: DatasetInfo, arch: str = 'atto',
              image_size: Optional[int] = None, iters: Optional[int] = None,
              batch_size: Optional[int] = None,
              pretrain_iters: Optional[int] = None) -> Plan:
    """The sizes of the configs for ``info``; reads the data where the
    config depends on it (class folders, image extensions, masks, the list
    of training images).

    Raises:
        DatasetInfoError: An unknown arch, a size below 2 patches, fewer
            than 2 iterations, or data that contradicts ``dataset.json``.
    """
    from ..models.backbones.convnext_v2 import ConvNeXtV2
    if arch not in ConvNeXtV2.arch_settings:
        raise DatasetInfoError(f'arch {arch!r} is not one of '
                               f'{list(ConvNeXtV2.arch_settings)}')
    if image_size is not None and image_size < 2 * PATCH:
        raise DatasetInfoError(f'--image-size {image_size}: at least '
                               f'{2 * PATCH}')
    n_train = info.splits['train']
    batch = batch_size or min(BATCH[info.task], n_train)
    if info.task == 'cls':
        image_size, scale_note = _cls_scale(info, image_size)
        crop = max(2 * PATCH, image_size // PATCH * PATCH)
        crop_note, crop_range = scale_note, (0.2, 1.0)
        pretrain_note = (f'crops of 20-100 % of an image resized to {crop} '
                         'px, as the official FCMAE recipe')
    else:
        image_size, scale_note, crop, crop_note = _scale(info.median_size,
                                                         image_size)
        crop_range, pretrain_note = _pretrain_crops(info.median_size,
                                                    image_size, crop)
    images = training_images(info)
    if not images:
        raise DatasetInfoError(f'{info.root}: no training image to '
                               'pre-train on')
    pretrain_batch = min(FCMAE_BATCH, len(images))
    setting = ConvNeXtV2.arch_settings[arch]
    return Plan(
        arch=arch, channels=list(setting['channels']),
        layer_ids=12 if setting['depths'][2] > 9 else 6,
        image_size=image_size, scale_note=scale_note, crop=crop,
        crop_note=crop_note, batch_size=batch,
        schedule=_epochs(n_train, batch, EPOCHS, iters, '--iters'),
        masks=info.task == 'det' and has_masks(info),
        labels={s: labelled_images(info, s) for s in ('train', 'val')}
        if info.task == 'cls' else {},
        suffixes={s: _suffix(info, s) for s in ('train', 'val')}
        if info.task == 'seg' else {},
        images=images, pretrain_batch=pretrain_batch,
        pretrain=_epochs(len(images), pretrain_batch, FCMAE_EPOCHS,
                         pretrain_iters, '--pretrain-iters', False),
        pretrain_crop_range=crop_range, pretrain_note=pretrain_note)

