"""The datasets a config names, and what they are: the leaf datasets of its
dataloaders (through wrappers such as ``RepeatDataset`` and
``ConcatDataset``), their class, classes and paths."""
import os.path as osp
from typing import Iterator, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict

from ..utils.paths import is_remote

__all__ = ['DATALOADERS', 'join_root', 'missing_data_hint', 'leaf_datasets',
           'configured_datasets', 'dataset_class', 'dataset_classes',
           'is_coco_style', 'is_folder_dataset']

_WRAPPER_KEYS = ('dataset', 'datasets')
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def join_root(root: Optional[str], path: Optional[str]) -> Optional[str]:
    """``path`` under the dataset's ``data_root`` (an absolute or remote
    path, or no root, leaves it as it is)."""
    if not path or not root or osp.isabs(path) or is_remote(path):
        return path
    return osp.join(root, path)


def missing_data_hint(path: str) -> str:
    """How to make a missing path of the synthetic sets, for an error
    message; empty for any other path."""
    if 'synthetic' in str(path):
        return ('; write the synthetic datasets with '
                'tools/misc/make_synthetic_data.py --out data/synthetic')
    return ''


def leaf_datasets(cfg: dict, where: str) -> Iterator[Tuple[dict, str]]:
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
                    yield from leaf_datasets(item, f'{where}.{key}[{i}]')
        elif isinstance(value, dict):
            yield from leaf_datasets(value, f'{where}.{key}')


def configured_datasets(cfg: Config,
                         dataloaders: Sequence[str]) -> Iterator[Tuple[dict, str]]:
    """Every leaf dataset config of the named dataloaders, with its path."""
    for loader in dataloaders:
        loader_cfg = cfg.get(loader)
        if isinstance(loader_cfg, (dict, ConfigDict)) and 'dataset' in loader_cfg:
            yield from leaf_datasets(loader_cfg['dataset'], f'{loader}.dataset')


def dataset_class(dataset_cfg: dict, scope: Optional[str]) -> Optional[type]:
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


def is_coco_style(dataset_cfg: dict, cls: Optional[type]) -> bool:
    """A dataset reading COCO-format JSON (mmdet's CocoDataset and its
    subclasses), as opposed to other JSON formats."""
    if cls is not None:
        return any(base.__name__ == 'CocoDataset' for base in cls.__mro__)
    return 'coco' in str(dataset_cfg.get('type', '')).lower()


def dataset_classes(dataset_cfg: dict,
                     cls: Optional[type]) -> Optional[Sequence[str]]:
    """The classes a dataset is configured with, or its class default."""
    metainfo = dataset_cfg.get('metainfo') or {}
    classes = metainfo.get('classes')
    if classes is None:
        classes = getattr(cls, 'METAINFO', {}).get('classes')
    if isinstance(classes, str):
        classes = [classes]
    return None if classes is None else list(classes)


def is_folder_dataset(dataset_cfg: dict, cls: Optional[type]) -> bool:
    """mmpretrain's ``CustomDataset`` (or a subclass) reading a folder of
    images, without an annotation file."""
    if dataset_cfg.get('ann_file'):
        return False
    if cls is not None:
        return any(base.__name__ == 'CustomDataset' for base in cls.__mro__)
    return str(dataset_cfg.get('type', '')).split('.')[-1] == 'CustomDataset'
