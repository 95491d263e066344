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
"""
import json
import os
import os.path as osp
from typing import Any, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict

from ..utils.errors import reported
from ..utils.paths import is_remote

__all__ = ['DatasetConfigError', 'DatasetFileNotFoundError',
           'check_dataset_config',
           'check_coco_annotation_file', 'DatasetProblem',
           'find_dataset_problems', 'image_problem']

_WRAPPER_KEYS = ('dataset', 'datasets')
_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_COCO_KEYS = ('images', 'annotations', 'categories')


@reported
class DatasetConfigError(ValueError):
    """A dataset of the config cannot be read as configured."""


class DatasetFileNotFoundError(DatasetConfigError, FileNotFoundError):
    """An annotation file or data folder of the config does not exist."""


def _join(root: Optional[str], path: Optional[str]) -> Optional[str]:
    if not path or not root or osp.isabs(path) or is_remote(path):
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


def _configured_datasets(cfg: Config,
                         dataloaders: Sequence[str]) -> Iterator[Tuple[dict, str]]:
    """Every leaf dataset config of the named dataloaders, with its path."""
    for loader in dataloaders:
        loader_cfg = cfg.get(loader)
        if isinstance(loader_cfg, (dict, ConfigDict)) and 'dataset' in loader_cfg:
            yield from _leaf_datasets(loader_cfg['dataset'], f'{loader}.dataset')


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


def _read_json_file(path: str) -> Any:
    """The JSON content of ``path``.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: not valid JSON (``UnicodeDecodeError`` is one).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(path)
    with open(path, encoding='utf-8') as f:
        return json.load(f)


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
    try:
        content = _read_json_file(ann_file)
    except FileNotFoundError:
        raise DatasetFileNotFoundError(
            f'{where}: annotation file {ann_file} does not exist'
            f'{_hint(ann_file)}') from None
    except ValueError as e:
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
        if folder and not is_remote(folder) and not osp.isdir(folder):
            raise DatasetFileNotFoundError(
                f'{where}: {name} folder {folder} does not exist'
                f'{_hint(folder)}')
    if img_dir and not is_remote(img_dir) and not dataset_cfg.get(
            'ann_file'):
        suffix = dataset_cfg.get('img_suffix', '.jpg')
        if not any(n.endswith(suffix) for n in _walk(img_dir)):
            raise DatasetConfigError(
                f'{where}: image folder {img_dir} holds no "*{suffix}" '
                'images')


def _is_folder_dataset(dataset_cfg: dict, cls: Optional[type]) -> bool:
    """mmpretrain's ``CustomDataset`` (or a subclass) reading a folder of
    images, without an annotation file."""
    if dataset_cfg.get('ann_file'):
        return False
    if cls is not None:
        return any(base.__name__ == 'CustomDataset' for base in cls.__mro__)
    return str(dataset_cfg.get('type', '')).split('.')[-1] == 'CustomDataset'


def _check_image_folder(dataset_cfg: dict, where: str) -> None:
    """A ``CustomDataset`` folder exists and holds at least one image of the
    dataset's extensions (in a class subfolder when ``with_label``)."""
    prefix = dataset_cfg.get('data_prefix') or ''
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path') or ''
    root = dataset_cfg.get('data_root') or ''
    folder = _join(root, prefix) if prefix else root
    if not folder or is_remote(folder):
        return
    if not osp.isdir(folder):
        raise DatasetFileNotFoundError(
            f'{where}: image folder {folder} does not exist (set '
            f'{where}.data_root to your folder of images){_hint(folder)}')
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
    for dataset_cfg, where in _configured_datasets(cfg, dataloaders):
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
                not is_remote(ann_file):
            check_coco_annotation_file(ann_file, classes, where)
        elif 'seg_map_path' in (dataset_cfg.get('data_prefix') or {}):
            _check_seg_folders(dataset_cfg, where)
        elif _is_folder_dataset(dataset_cfg, cls):
            _check_image_folder(dataset_cfg, where)
    if ref_classes is not None and 'model' in cfg:
        for key, num in _head_num_classes(cfg['model']):
            if num != len(ref_classes):
                raise DatasetConfigError(
                    f'{key} is {num} but {ref_where} has '
                    f'{len(ref_classes)} classes {tuple(ref_classes)}')


# --------------------------------------------------------------------------
# Pre-flight: every file of every dataset (tools/misc/check_dataset.py)
# --------------------------------------------------------------------------
class DatasetProblem(NamedTuple):
    """One problem found by :func:`find_dataset_problems`."""
    file: str   #: the file at fault
    what: str   #: what is wrong
    where: str  #: the dataloader and the entry (image / annotation / index)

    def __str__(self) -> str:
        return f'{self.file}: {self.what} [{self.where}]'


def image_problem(path: str) -> Optional[str]:
    """Why the image at ``path`` cannot be used, or None. The file must
    exist and decode completely (PIL, then OpenCV as mmcv reads it)."""
    if not osp.isfile(path):
        return 'image file missing'
    try:
        from PIL import Image
        with Image.open(path) as img:
            img.load()
    except Exception as err:  # PIL raises many types for bad files
        return f'image does not decode: {err}'
    import cv2
    import numpy as np
    data = np.fromfile(path, dtype=np.uint8)
    if cv2.imdecode(data, cv2.IMREAD_UNCHANGED) is None:
        return 'image does not decode (OpenCV)'
    return None


def _image_size(path: str) -> Tuple[int, int]:
    from PIL import Image
    with Image.open(path) as img:
        return img.size  # (width, height)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _segmentation_problem(seg: Any, height: Optional[int],
                          width: Optional[int]) -> Optional[str]:
    if isinstance(seg, list):  # polygons
        if not seg:
            return 'empty polygon list'
        for poly in seg:
            if not isinstance(poly, list) or not all(map(_is_number, poly)):
                return 'polygon is not a list of numbers'
            if len(poly) < 6 or len(poly) % 2:
                return (f'polygon with {len(poly)} coordinates (needs an even '
                        'number, at least 6)')
        return None
    if isinstance(seg, dict):  # RLE
        if 'counts' not in seg or 'size' not in seg:
            return 'RLE without "counts" and "size"'
        size = seg['size']
        if not (isinstance(size, list) and len(size) == 2):
            return f'RLE size {size!r} is not [height, width]'
        if height is not None and list(size) != [height, width]:
            return f'RLE size {size} differs from the image [{height}, {width}]'
        counts = seg['counts']
        if isinstance(counts, list):
            if not all(isinstance(c, int) and c >= 0 for c in counts) or \
                    sum(counts) != size[0] * size[1]:
                return (f'uncompressed RLE counts sum to {sum(counts)}'
                        if all(isinstance(c, int) for c in counts) else
                        'RLE counts are not non-negative integers') + \
                    f', not height x width = {size[0] * size[1]}'
            return None
        try:
            from pycocotools import mask as mask_utils
            mask_utils.decode(dict(size=size, counts=counts.encode()
                                   if isinstance(counts, str) else counts))
        except Exception as err:
            return f'compressed RLE does not decode: {err}'
        return None
    return f'segmentation is a {type(seg).__name__}, not polygons or RLE'


def _coco_problems(ann_file: str, img_dir: Optional[str],
                   classes: Optional[Sequence[str]],
                   where: str) -> List[DatasetProblem]:
    """Every problem of a COCO annotation file and its images."""
    try:
        content = _read_json_file(ann_file)
    except FileNotFoundError:
        return [DatasetProblem(ann_file, 'annotation file missing', where)]
    except ValueError as err:
        return [DatasetProblem(ann_file, f'not valid JSON: {err}', where)]
    if not isinstance(content, dict) or any(
            not isinstance(content.get(k), list) for k in _COCO_KEYS):
        return [DatasetProblem(ann_file, 'not COCO: needs the lists '
                               f'{list(_COCO_KEYS)}', where)]
    found: List[DatasetProblem] = []

    def add(file: str, what: str, entry: str) -> None:
        found.append(DatasetProblem(file, what, f'{where}, {entry}'))

    categories = _coco_categories(content, ann_file, classes, add)
    images = _coco_images(content, ann_file, img_dir, add)
    for i, ann in enumerate(content['annotations']):
        _coco_annotation(i, ann, ann_file, images, categories, add)
    return found


_Add = Any  # add(file, what, entry): records one problem


def _coco_categories(content: dict, ann_file: str,
                     classes: Optional[Sequence[str]], add: _Add) -> dict:
    """The file's categories (id -> name); problems with them and with the
    config's classes."""
    categories = {}
    for i, cat in enumerate(content['categories']):
        if not isinstance(cat, dict) or 'id' not in cat or 'name' not in cat:
            add(ann_file, 'category without "id" and "name"',
                f'categories[{i}]')
        else:
            categories[cat['id']] = cat['name']
    for name in classes or []:
        if name not in categories.values():
            add(ann_file, f'class {name!r} of the config is not a category '
                f'of the file (its categories: {sorted(categories.values())})',
                'categories')
    return categories


def _coco_images(content: dict, ann_file: str, img_dir: Optional[str],
                 add: _Add) -> dict:
    """The file's image entries (id -> entry); problems with the entries
    and with the image files (missing, undecodable, another size)."""
    images = {}
    for i, img in enumerate(content['images']):
        missing = [k for k in ('id', 'file_name', 'width', 'height')
                   if not isinstance(img, dict) or k not in img]
        if missing:
            add(ann_file, f'image entry without {missing}', f'images[{i}]')
            if isinstance(img, dict) and 'id' in img:
                images[img['id']] = img  # its annotations are still checked
            continue
        if img['id'] in images:
            add(ann_file, f'duplicate image id {img["id"]}', f'images[{i}]')
        images[img['id']] = img
        path = _join(img_dir, img['file_name']) or img['file_name']
        if is_remote(path):
            continue
        why = image_problem(path)
        if why is None:
            size = _image_size(path)
            if size != (img['width'], img['height']):
                why = (f'image is {size[0]}x{size[1]}, the annotation file '
                       f'says {img["width"]}x{img["height"]}')
        if why:
            add(path, why, f'image id {img["id"]}')
    return images


def _coco_annotation(i: int, ann: Any, ann_file: str, images: dict,
                     categories: dict, add: _Add) -> None:
    """Problems of the annotation entry ``i``."""
    missing = [k for k in ('id', 'image_id', 'category_id', 'bbox')
               if not isinstance(ann, dict) or k not in ann]
    if missing:
        add(ann_file, f'annotation without {missing}', f'annotations[{i}]')
        return
    entry = f'annotation id {ann["id"]}'
    img = images.get(ann['image_id'])
    if img is None:
        add(ann_file, f'image_id {ann["image_id"]} is not an image of the '
            'file', entry)
    if ann['category_id'] not in categories:
        add(ann_file, f'category_id {ann["category_id"]} is not a '
            'category of the file', entry)
    box = ann['bbox']
    if not (isinstance(box, list) and len(box) == 4
            and all(map(_is_number, box))):
        add(ann_file, f'bbox {box!r} is not [x, y, w, h]', entry)
    elif box[2] <= 0 or box[3] <= 0:
        add(ann_file, f'degenerate bbox {box} (width and height must be '
            '> 0)', entry)
    crowd = ann.get('iscrowd', 0)
    if crowd not in (0, 1) or isinstance(crowd, bool):
        add(ann_file, f'iscrowd is {crowd!r}, not 0 or 1', entry)
    if 'segmentation' in ann:
        h = img.get('height') if img else None
        w = img.get('width') if img else None
        why = _segmentation_problem(ann['segmentation'], h, w)
        if why:
            add(ann_file, why, entry)


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
    source = str(_join(cfg.get('data_root'), cfg.get('ann_file'))
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
                size = _image_size(img_path)
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
                          dataloaders: Sequence[str] = _DATALOADERS
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
    for dataset_cfg, where in _configured_datasets(cfg, dataloaders):
        key = json.dumps(dataset_cfg, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        cls = _dataset_class(dataset_cfg, scope)
        ann_file = _join(dataset_cfg.get('data_root'),
                         dataset_cfg.get('ann_file'))
        if ann_file and _is_coco_style(dataset_cfg, cls) and \
                not is_remote(ann_file):
            prefix = dataset_cfg.get('data_prefix') or {}
            img_dir = _join(dataset_cfg.get('data_root'),
                            prefix.get('img') or prefix.get('img_path'))
            found += _coco_problems(ann_file, img_dir,
                                    _dataset_classes(dataset_cfg, cls),
                                    where)
        else:
            found += _built_dataset_problems(dataset_cfg, scope, where)
    return found
