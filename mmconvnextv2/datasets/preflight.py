"""The thorough pre-flight (``tools/misc/check_dataset.py``,
``tools/train.py --check-data``): every file of every dataset of a config
read, every problem found returned as a list."""
import json
import os.path as osp
from typing import Any, List, Optional, Sequence, Tuple

from mmengine.config import Config

from ..utils.paths import is_remote
from .coco_checks import coco_problems
from .config_datasets import (DATALOADERS, configured_datasets, dataset_class,
                              dataset_classes, is_coco_style, join_root)
from .problems import DatasetProblem, image_problem, image_size

__all__ = ['SPLITS', 'find_dataset_problems']


def _label_values_allowed(dataset: Any) -> Tuple[set, int]:
    """The raw label values a segmentation dataset accepts, and the ignore
    value (ADE20K: class ids + 1 with 0 'other', as ``reduce_zero_label``)."""
    ignore = getattr(dataset, 'ignore_index', 255)
    classes = (getattr(type(dataset), 'METAINFO', {}).get('classes')
               if getattr(dataset, 'label_map', None) else None) \
        or dataset.metainfo.get('classes') or ()
    count = len(classes)
    if getattr(dataset, 'reduce_zero_label', False):
        return set(range(count + 1)), ignore
    return set(range(count)), ignore


def _built_dataset_problems(dataset_cfg: dict, scope: Optional[str],
                            where: str) -> List[DatasetProblem]:
    """Build the dataset (without its pipeline) and check every image and,
    for segmentation datasets, every label map."""
    from mmengine.registry import DATASETS
    import numpy as np
    cfg = dict(dataset_cfg)
    cfg['pipeline'] = []
    cfg.pop('lazy_init', None)
    source = str(join_root(cfg.get('data_root'), cfg.get('ann_file'))
                 or cfg.get('data_root') or where)
    try:
        with DATASETS.switch_scope_and_registry(scope) as registry:
            dataset = registry.build(cfg)
    except Exception as err:
        return [DatasetProblem(source, f'dataset cannot be built: {err}',
                               where)]
    found: List[DatasetProblem] = []
    allowed = _label_values_allowed(dataset) if hasattr(
        dataset, 'reduce_zero_label') else None
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        entry = f'{where}, index {index}'
        img_path = info.get('img_path')
        size = None
        if img_path and not is_remote(img_path):
            why = image_problem(img_path)
            if why:
                found.append(DatasetProblem(img_path, why, entry))
            else:
                size = image_size(img_path)
        seg_path = info.get('seg_map_path')
        if not seg_path or is_remote(seg_path):
            continue
        if not osp.isfile(seg_path):
            found.append(DatasetProblem(seg_path, 'label map missing', entry))
            continue
        try:
            from PIL import Image
            with Image.open(seg_path) as label:
                label_size = label.size
                values = np.unique(np.asarray(label))
        except Exception as err:
            found.append(DatasetProblem(seg_path, f'label map does not '
                                        f'decode: {err}', entry))
            continue
        if size is not None and label_size != size:
            found.append(DatasetProblem(
                seg_path, f'label map is {label_size[0]}x{label_size[1]}, its '
                f'image {size[0]}x{size[1]}', entry))
        if allowed is not None:
            valid, ignore = allowed
            bad = [int(v) for v in values if int(v) not in valid
                   and int(v) != ignore]
            if bad:
                found.append(DatasetProblem(
                    seg_path, f'label values {bad} are neither classes '
                    f'(0..{max(valid)}) nor the ignore value {ignore}', entry))
    return found


SPLITS = {'train': 'train_dataloader', 'val': 'val_dataloader',
          'test': 'test_dataloader'}


def find_dataset_problems(cfg: Config,
                          dataloaders: Sequence[str] = DATALOADERS
                          ) -> List[DatasetProblem]:
    """Every problem of the datasets of ``cfg``: every image decoded, COCO
    annotations (schema, image files, categories vs the config's classes,
    polygons and RLE, degenerate boxes, crowd flags) and segmentation label
    maps (present, the image's size, values within the classes + ignore).
    A dataset that several dataloaders share is checked once.
    """
    scope = cfg.get('default_scope')
    found: List[DatasetProblem] = []
    seen = set()
    for dataset_cfg, where in configured_datasets(cfg, dataloaders):
        key = json.dumps(dataset_cfg, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        cls = dataset_class(dataset_cfg, scope)
        ann_file = join_root(dataset_cfg.get('data_root'),
                         dataset_cfg.get('ann_file'))
        if ann_file and is_coco_style(dataset_cfg, cls) and \
                not is_remote(ann_file):
            prefix = dataset_cfg.get('data_prefix') or {}
            img_dir = join_root(dataset_cfg.get('data_root'),
                            prefix.get('img') or prefix.get('img_path'))
            found += coco_problems(ann_file, img_dir,
                                    dataset_classes(dataset_cfg, cls),
                                    where)
        else:
            found += _built_dataset_problems(dataset_cfg, scope, where)
    return found
