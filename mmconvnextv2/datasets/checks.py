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
* The heads' ``num_classes`` equals the number of classes of the first
  checked dataset (panoptic datasets excepted: their heads count subsets).
"""
import json
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict

__all__ = ['DatasetConfigError', 'check_dataset_config',
           'check_coco_annotation_file']

_WRAPPER_KEYS = ('dataset', 'datasets')
_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_COCO_KEYS = ('images', 'annotations', 'categories')


class DatasetConfigError(ValueError):
    """A dataset of the config cannot be read as configured."""


def _is_remote(path: str) -> bool:
    return '://' in str(path)


def _join(root: Optional[str], path: Optional[str]) -> Optional[str]:
    if not path or not root or osp.isabs(path) or _is_remote(path):
        return path
    return osp.join(root, path)


def _hint(path: str) -> str:
    if 'synthetic' in str(path):
        return ('; write the synthetic datasets with '
                'tools/misc/make_synthetic_data.py --out data/synthetic')
    return ''


def _leaf_datasets(cfg: dict, where: str) -> Iterator[Tuple[dict, str]]:
    """The dataset dicts under ``cfg``, looking through wrappers
    (RepeatDataset, ConcatDataset, ClassBalancedDataset, ...)."""
    inner = [key for key in _WRAPPER_KEYS if key in cfg]
    if not inner:
        yield cfg, where
        return
    for key in inner:
        value = cfg[key]
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _leaf_datasets(item, f'{where}.{key}[{i}]')
        elif isinstance(value, dict):
            yield from _leaf_datasets(value, f'{where}.{key}')


def _dataset_class(dataset_cfg: dict, scope: Optional[str]) -> Optional[type]:
    """The class a dataset config builds, looked up in the registry."""
    dataset_type = dataset_cfg.get('type')
    if not isinstance(dataset_type, str):
        return dataset_type if isinstance(dataset_type, type) else None
    try:
        from mmengine.registry import DATASETS
        with DATASETS.switch_scope_and_registry(scope) as registry:
            return registry.get(dataset_type)
    except Exception:  # unknown scope or type: the runner will say so
        return None


def _is_coco_style(dataset_cfg: dict, cls: Optional[type]) -> bool:
    """A dataset reading COCO-format JSON (mmdet's CocoDataset and its
    subclasses), as opposed to other JSON formats."""
    if cls is not None:
        return any(base.__name__ == 'CocoDataset' for base in cls.__mro__)
    return 'coco' in str(dataset_cfg.get('type', '')).lower()


def _dataset_classes(dataset_cfg: dict,
                     cls: Optional[type]) -> Optional[Sequence[str]]:
    """The classes a dataset is configured with, or its class default."""
    metainfo = dataset_cfg.get('metainfo') or {}
    classes = metainfo.get('classes')
    if classes is None:
        classes = getattr(cls, 'METAINFO', {}).get('classes')
    if isinstance(classes, str):
        classes = [classes]
    return None if classes is None else list(classes)


def check_coco_annotation_file(ann_file: str,
                               classes: Optional[Sequence[str]] = None,
                               where: str = 'dataset') -> dict:
    """Check a COCO-format annotation file and return its parsed content.

    Args:
        ann_file: Path of the JSON file.
        classes: Class names the dataset is configured with; each must be
            the name of a category of the file.
        where: How to name the dataset in messages (e.g. the dataloader).

    Raises:
        FileNotFoundError: The file does not exist.
        DatasetConfigError: It is not valid JSON, lacks a COCO key, or does
            not define some of ``classes``.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(
            f'{where}: annotation file {ann_file} does not exist'
            f'{_hint(ann_file)}')
    try:
        with open(ann_file, encoding='utf-8') as f:
            content = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise DatasetConfigError(
            f'{where}: annotation file {ann_file} is not valid JSON: '
            f'{e}') from e
    if not isinstance(content, dict) or any(k not in content
                                            for k in _COCO_KEYS):
        found = sorted(content) if isinstance(content, dict) else \
            type(content).__name__
        raise DatasetConfigError(
            f'{where}: annotation file {ann_file} is not in the COCO format: '
            f'it needs the keys {list(_COCO_KEYS)}, found {found}')
    if classes is not None:
        names = [c.get('name') for c in content['categories']
                 if isinstance(c, dict)]
        missing = [c for c in classes if c not in names]
        if missing:
            raise DatasetConfigError(
                f'{where}: classes {missing} are not categories of the '
                f'annotation file {ann_file} (its categories: {names}); set '
                "the dataset's metainfo=dict(classes=...) to names of the "
                'file')
    return content


def _check_seg_folders(dataset_cfg: dict, where: str) -> None:
    prefix = dataset_cfg.get('data_prefix') or {}
    root = dataset_cfg.get('data_root')
    img_dir = _join(root, prefix.get('img_path'))
    seg_dir = _join(root, prefix.get('seg_map_path'))
    for name, folder in (('image', img_dir), ('label', seg_dir)):
        if folder and not _is_remote(folder) and not osp.isdir(folder):
            raise FileNotFoundError(
                f'{where}: {name} folder {folder} does not exist'
                f'{_hint(folder)}')
    if img_dir and not _is_remote(img_dir) and not dataset_cfg.get(
            'ann_file'):
        suffix = dataset_cfg.get('img_suffix', '.jpg')
        if not any(n.endswith(suffix) for n in _walk(img_dir)):
            raise DatasetConfigError(
                f'{where}: image folder {img_dir} holds no "*{suffix}" '
                'images')


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
                         dataloaders: Sequence[str] = _DATALOADERS) -> None:
    """Raise a clear error for a dataset of ``cfg`` that cannot be read.

    Args:
        cfg: The full (merged) config.
        dataloaders: Which dataloaders to check; absent ones are skipped.

    Raises:
        FileNotFoundError: An annotation file or data folder is missing.
        DatasetConfigError: A malformed annotation file, classes the file
            does not define, or heads whose ``num_classes`` differs from the
            number of training classes.
    """
    scope = cfg.get('default_scope')
    ref_classes, ref_where = None, None
    for loader in dataloaders:
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, (dict, ConfigDict)) or \
                'dataset' not in loader_cfg:
            continue
        for dataset_cfg, where in _leaf_datasets(loader_cfg['dataset'],
                                                 f'{loader}.dataset'):
            cls = _dataset_class(dataset_cfg, scope)
            classes = _dataset_classes(dataset_cfg, cls)
            if ref_classes is None and 'panoptic' not in getattr(
                    cls, '__name__', '').lower():
                # the first dataset's classes are what the heads must count
                # (panoptic heads count subsets of them: not checked)
                ref_classes, ref_where = classes, where
            ann_file = _join(dataset_cfg.get('data_root'),
                             dataset_cfg.get('ann_file'))
            if ann_file and _is_coco_style(dataset_cfg, cls) and \
                    not _is_remote(ann_file):
                check_coco_annotation_file(ann_file, classes, where)
            elif 'seg_map_path' in (dataset_cfg.get('data_prefix') or {}):
                _check_seg_folders(dataset_cfg, where)
    if ref_classes is not None and 'model' in cfg:
        for key, num in _head_num_classes(cfg['model']):
            if num != len(ref_classes):
                raise DatasetConfigError(
                    f'{key} is {num} but {ref_where} has '
                    f'{len(ref_classes)} classes {tuple(ref_classes)}')
