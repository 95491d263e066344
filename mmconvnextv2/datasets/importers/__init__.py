"""Import your own images and labels: COCO, VIA, labelme, Pascal VOC,
segmentation masks and class folders, into the layout our configs read
(see :mod:`.importer`; the tool is ``tools/dataset_converters/import_dataset.py``)."""
from .importer import (DEFAULT_VAL_FRACTION, FORMATS, ImportResult,
                       format_summary, import_dataset)
from .records import (BAD_KINDS, AnnotationFileError, BadRecord, BadRecords,
                      DatasetImportError)
from .splitting import name_prefix, split_by_fraction

__all__ = ['FORMATS', 'DEFAULT_VAL_FRACTION', 'ImportResult',
           'import_dataset', 'format_summary', 'BAD_KINDS', 'BadRecord',
           'BadRecords', 'AnnotationFileError', 'DatasetImportError',
           'name_prefix', 'split_by_fraction']
