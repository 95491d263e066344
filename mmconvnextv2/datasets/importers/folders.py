"""Reader of classification folders: one folder per class, images anywhere
below it (the ImageNet / mmpretrain ``CustomDataset`` layout).

The folders and files are listed by mmpretrain's own ``find_folders`` and
``get_samples``, with ``CustomDataset``'s default extensions, so the import
holds exactly what the classification configs will read. The image folder
is the class-folder root itself.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from .records import BadRecords, DatasetImportError, ImageRecord

__all__ = ['TASK', 'extensions', 'read']

TASK = 'cls'


def extensions() -> Tuple[str, ...]:
    """The file extensions mmpretrain's ``CustomDataset`` reads by default
    (a file of another extension would not be read by the configs)."""
    import inspect

    from mmpretrain.datasets import CustomDataset
    default = inspect.signature(CustomDataset).parameters['extensions']
    return tuple(ext.lower() for ext in default.default)


def read(src: str, images_dir: str, bad: BadRecords, *,
         classes: Optional[Sequence[str]] = None,
         class_attribute: Optional[str] = None) -> List[ImageRecord]:
    """One record per image of the class folders under ``src``."""
    from mmpretrain.datasets.custom import find_folders, get_samples
    if not osp.isdir(src):
        raise DatasetImportError(f'folders: {src} is not a folder')
    folders, folder_to_idx = find_folders(src)
    if not folders:
        raise DatasetImportError(f'folders: no class folder under {src}')
    allowed = extensions()
    samples, _ = get_samples(
        src, folder_to_idx,
        is_valid_file=lambda name: name.lower().endswith(allowed))
    records = []
    for rel, index in samples:
        rel = rel.replace('\\', '/')
        records.append(ImageRecord(
            source=src, where=f'image {rel!r}', file_name=rel,
            path=osp.join(src, rel), label=folders[index]))
    return records
