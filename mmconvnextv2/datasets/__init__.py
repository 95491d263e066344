"""Synthetic datasets (COCO and ADE20K layouts), dataset config checks and
the checked image loading."""
from .checks import (DatasetConfigError, check_coco_annotation_file,
                     check_dataset_config)
from .synthetic import (ADE_LABEL_IDS, ADE_METAINFO, COCO_METAINFO,
                        IGNORE_LABEL, SHAPES, make_scene, make_synthetic_ade,
                        make_synthetic_coco, make_synthetic_data,
                        make_synthetic_unlabelled)
from .transforms import CheckedLoadImageFromFile, CorruptImageError

__all__ = [
    'SHAPES', 'COCO_METAINFO', 'ADE_METAINFO', 'ADE_LABEL_IDS', 'IGNORE_LABEL',
    'make_scene', 'make_synthetic_coco', 'make_synthetic_ade',
    'make_synthetic_data', 'make_synthetic_unlabelled', 'DatasetConfigError', 'check_dataset_config',
    'check_coco_annotation_file', 'CheckedLoadImageFromFile',
    'CorruptImageError'
]
