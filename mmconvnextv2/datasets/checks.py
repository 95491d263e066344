"""Clear errors for dataset configs, before any training starts.

Upstream readers fail unclearly on some bad inputs: mmdet's ``CocoDataset``
raises a bare ``JSONDecodeError`` (no file name) for a malformed annotation
file, and silently drops the ``metainfo`` classes that the file does not
define (then trains with the wrong label set). :func:`check_dataset_config`
checks every dataloader of a config up front and raises an error naming the
file, the dataloader and what is wrong. ``tools/train.py`` calls it
(and ``tools/test.py`` with ``dataloaders=('test_dataloader',)``) before
building the runner, so a bad config leaves no checkpoint behind.

Checked (local paths only; remote ones are left to the readers):

* COCO-format datasets (mmdet's ``CocoDataset`` and its subclasses): the
  file exists, parses, has ``images``/``annotations``/``categories``, and
  defines every class of the dataset (``metainfo`` or the class default).
* Folder-style segmentation datasets (``data_prefix.img_path`` and
  ``seg_map_path``, as ADE20K): both folders exist and the image folder holds
  images of the dataset's suffix.
* Image-folder datasets (mmpretrain's ``CustomDataset`` without an
  annotation file, as FCMAE pre-training on your own images): the folder
  exists and holds at least one image of the dataset's extensions.
* The heads' ``num_classes`` equals the number of classes of the first
  checked dataset (panoptic datasets excepted: their heads count subsets).

:func:`find_dataset_problems` is the thorough pre-flight
(``tools/misc/check_dataset.py``, ``tools/train.py --check-data``): it reads
every file of the datasets and returns every problem found, as a list.

This module holds the quick check and names every public piece of both;
beside it: :mod:`.config_datasets` (the datasets a config names),
:mod:`.coco_checks` (COCO annotation files, both checks), :mod:`.preflight`
(the thorough pre-flight) and :mod:`.problems` (what they report).
"""
import os
import os.path as osp
from typing import Iterator, List, Sequence, Tuple

from mmengine.config import Config

from ..utils.paths import is_remote
from .coco_checks import check_coco_annotation_file
from .config_datasets import (DATALOADERS, configured_datasets, dataset_class,
                              dataset_classes, is_coco_style,
                              is_folder_dataset, join_root, missing_data_hint)
from .preflight import SPLITS, find_dataset_problems
from .problems import (DatasetConfigError, DatasetFileNotFoundError,
                       DatasetProblem, image_problem)

__all__ = ['DatasetConfigError', 'DatasetFileNotFoundError',
           'check_dataset_config',
           'check_coco_annotation_file', 'DatasetProblem',
           'find_dataset_problems', 'image_problem', 'SPLITS']


def _check_seg_folders(dataset_cfg: dict, where: str) -> None:
    prefix = dataset_cfg.get('data_prefix') or {}
    root = dataset_cfg.get('data_root')
    img_dir = join_root(root, prefix.get('img_path'))
    seg_dir = join_root(root, prefix.get('seg_map_path'))
    for name, folder in (('image', img_dir), ('label', seg_dir)):
        if folder and not is_remote(folder) and not osp.isdir(folder):
            raise DatasetFileNotFoundError(
                f'{where}: {name} folder {folder} does not exist'
                f'{missing_data_hint(folder)}')
    if img_dir and not is_remote(img_dir) and not dataset_cfg.get(
            'ann_file'):
        suffix = dataset_cfg.get('img_suffix', '.jpg')
        if not any(n.endswith(suffix) for n in _walk(img_dir)):
            raise DatasetConfigError(
                f'{where}: image folder {img_dir} holds no "*{suffix}" '
                'images')


def _check_image_folder(dataset_cfg: dict, where: str) -> None:
    """A ``CustomDataset`` folder exists and holds at least one image of the
    dataset's extensions (in a class subfolder when ``with_label``)."""
    prefix = dataset_cfg.get('data_prefix') or ''
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path') or ''
    root = dataset_cfg.get('data_root') or ''
    folder = join_root(root, prefix) if prefix else root
    if not folder or is_remote(folder):
        return
    if not osp.isdir(folder):
        raise DatasetFileNotFoundError(
            f'{where}: image folder {folder} does not exist (set '
            f'{where}.data_root to your folder of images){missing_data_hint(folder)}')
    extensions = tuple(e.lower() for e in dataset_cfg.get(
        'extensions', ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm',
                       '.tif')))
    with_label = dataset_cfg.get('with_label', True)
    for current, _, files in os.walk(folder):
        if with_label and osp.samefile(current, folder):
            continue  # labelled: images live in one subfolder per class
        if any(name.lower().endswith(extensions) for name in files):
            return
    place = 'class subfolders of ' if with_label else ''
    raise DatasetConfigError(
        f'{where}: no image ({", ".join(extensions)}) in the {place}folder '
        f'{folder}')


def _walk(folder: str) -> Iterator[str]:
    for _, _, files in os.walk(folder):
        yield from files


def _head_num_classes(model_cfg: dict, path: str = 'model'
                      ) -> List[Tuple[str, int]]:
    """``(key path, num_classes)`` of every head in the model config, the
    RPN head (class-agnostic) excepted."""
    found = []
    if isinstance(model_cfg, dict):
        for key, value in model_cfg.items():
            if key == 'num_classes' and isinstance(value, int) and \
                    not path.endswith('rpn_head'):
                found.append((f'{path}.num_classes', value))
            elif key not in ('train_cfg', 'test_cfg', 'data_preprocessor'):
                found += _head_num_classes(value, f'{path}.{key}')
    elif isinstance(model_cfg, (list, tuple)):
        for i, item in enumerate(model_cfg):
            found += _head_num_classes(item, f'{path}[{i}]')
    return found


def check_dataset_config(cfg: Config,
                         dataloaders: Sequence[str] = DATALOADERS) -> None:
    """Raise a clear error for a dataset of ``cfg`` that cannot be read.

    Args:
        cfg: The full (merged) config.
        dataloaders: Which dataloaders to check; absent ones are skipped.

    Raises:
        FileNotFoundError: An annotation file or data folder is missing.
        DatasetConfigError: A malformed annotation file, classes the file
            does not define, or heads whose ``num_classes`` differs from the
            number of training classes.
        ChannelConfigError: For a model of C != 3 input channels, a
            transform or data preprocessor defined for RGB only.
    """
    from .channel_checks import check_channels
    check_channels(cfg)
    scope = cfg.get('default_scope')
    ref_classes, ref_where = None, None
    for dataset_cfg, where in configured_datasets(cfg, dataloaders):
        cls = dataset_class(dataset_cfg, scope)
        classes = dataset_classes(dataset_cfg, cls)
        if ref_classes is None and 'panoptic' not in getattr(
                cls, '__name__', '').lower():
            # the first dataset's classes are what the heads must count
            # (panoptic heads count subsets of them: not checked)
            ref_classes, ref_where = classes, where
        ann_file = join_root(dataset_cfg.get('data_root'),
                         dataset_cfg.get('ann_file'))
        if ann_file and is_coco_style(dataset_cfg, cls) and \
                not is_remote(ann_file):
            check_coco_annotation_file(ann_file, classes, where)
        elif 'seg_map_path' in (dataset_cfg.get('data_prefix') or {}):
            _check_seg_folders(dataset_cfg, where)
        elif is_folder_dataset(dataset_cfg, cls):
            _check_image_folder(dataset_cfg, where)
    if ref_classes is not None and 'model' in cfg:
        for key, num in _head_num_classes(cfg['model']):
            if num != len(ref_classes):
                raise DatasetConfigError(
                    f'{key} is {num} but {ref_where} has '
                    f'{len(ref_classes)} classes {tuple(ref_classes)}')
