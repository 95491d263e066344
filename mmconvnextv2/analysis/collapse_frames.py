"""The frames of the collapse study's two pre-trainings (:mod:`.collapse_study`):
the ``--cfg-options`` that point an FCMAE config at a folder of images and
set its crops, and the crops a folder gets by default: the config's own for
frames no larger than its crop, else the config writer's FCMAE rule
(:func:`mmconvnextv2.datasets.dataset_info.fcmae_crops`).
"""
import os.path as osp
from dataclasses import asdict, dataclass
from statistics import median_low
from typing import Dict, List, Optional, Tuple

from mmconvnextv2.datasets.dataset_info import PATCH, fcmae_crops
from mmconvnextv2.datasets.problems import image_size
from mmconvnextv2.utils import list_images

from .runner import repo_root

__all__ = ['Crops', 'config_crops', 'median_size', 'folder_crops',
           'given_crops', 'crop_options', 'folder_options', 'parse_ratio',
           'image_folder', 'frame_options']

_CROP = 'RandomResizedCrop'


@dataclass(frozen=True)
class Crops:
    """FCMAE's square crops: side ``size`` px, of ``ratio`` (low, high) of an
    image's area, and where they come from."""
    size: int
    ratio: Tuple[float, float]
    note: str

    def as_dict(self) -> Dict:
        return asdict(self)


def _pipeline(config: str) -> Tuple[list, int]:
    """The config's training pipeline and the index of its crop."""
    from mmengine.config import Config
    cfg = Config.fromfile(config if osp.isabs(config)
                          else osp.join(repo_root(), config))
    pipeline = cfg.train_dataloader.dataset.pipeline
    for index, step in enumerate(pipeline):
        if step.get('type') == _CROP:
            return pipeline, index
    raise ValueError(f'{config}: no {_CROP} in train_dataloader.dataset.'
                     'pipeline to set the crops of')


def config_crops(config: str) -> Crops:
    """The crops ``config`` trains with."""
    pipeline, index = _pipeline(config)
    step = pipeline[index]
    low, high = step.get('crop_ratio_range', (0.08, 1.0))
    return Crops(int(step['scale']), (float(low), float(high)),
                 f'the config\'s: {step["scale"]}-px crops of '
                 f'{low:.0%}-{high:.0%} of an image')


def median_size(folder: str) -> Tuple[int, int]:
    """(width, height): the median of each over the images under
    ``folder``."""
    sizes = [image_size(path) for path in list_images(folder)]
    return (median_low(w for w, _ in sizes), median_low(h for _, h in sizes))


def folder_crops(folder: str, config: str) -> Crops:
    """The crops for the images under ``folder``: the config's when the
    median frame is no larger than its crop, else the config writer's FCMAE
    rule for the median frame."""
    own = config_crops(config)
    size = median_size(folder)
    if max(size) <= own.size:
        return own
    crop, ratio, note = fcmae_crops(size)
    return Crops(crop, ratio, f'the config writer\'s rule for the median '
                 f'frame ({size[0]}x{size[1]}): {note}')


def given_crops(default: Crops, size: Optional[int] = None,
                ratio: Optional[Tuple[float, float]] = None) -> Crops:
    """``default`` with ``--crop-size`` / ``--crop-ratio`` applied.

    Raises:
        ValueError: A size that is not a multiple of FCMAE's patch.
    """
    if size is None and ratio is None:
        return default
    size = default.size if size is None else size
    if size < 2 * PATCH or size % PATCH:
        raise ValueError(f'--crop-size {size}: FCMAE needs a multiple of '
                         f'{PATCH} px, at least {2 * PATCH}')
    ratio = default.ratio if ratio is None else ratio
    given = ', '.join(name for name, value in (
        ('--crop-size', size != default.size),
        ('--crop-ratio', ratio != default.ratio)) if value) or 'given'
    return Crops(size, ratio, f'{given}: {size}-px crops of '
                 f'{ratio[0]:.0%}-{ratio[1]:.0%} of an image')


def parse_ratio(text: str) -> Tuple[float, float]:
    """``"a,b"`` with ``0 < a <= b <= 1``, as ``(a, b)``."""
    try:
        low, high = (float(v) for v in text.split(','))
    except ValueError:
        raise ValueError(f'--crop-ratio {text!r}: give two numbers, a,b'
                         ) from None
    if not 0 < low <= high <= 1:
        raise ValueError(f'--crop-ratio {text!r}: needs 0 < a <= b <= 1')
    return low, high


def crop_options(config: str, crops: Crops) -> List[str]:
    """``--cfg-options`` that set ``config``'s crops to ``crops``."""
    _, index = _pipeline(config)
    where = f'train_dataloader.dataset.pipeline.{index}'
    low, high = crops.ratio
    return [f'{where}.scale={crops.size}',
            f'{where}.crop_ratio_range=({low},{high})']


def image_folder(folder: str, recursive: bool = True) -> str:
    """``folder`` made absolute, once it is known to hold images (under it,
    or directly in it when not ``recursive``).

    Raises:
        FileNotFoundError: It holds none (the message names it).
    """
    folder = osp.abspath(folder)
    list_images(folder, recursive=recursive)
    return folder


def folder_options(folder: str) -> List[str]:
    """``--cfg-options`` pointing an FCMAE config's unlabelled dataset at
    every image under ``folder``."""
    folder = osp.abspath(folder).rstrip('/')
    return [f'train_dataloader.dataset.data_root={osp.dirname(folder)}/',
            f'train_dataloader.dataset.data_prefix={osp.basename(folder)}']


def frame_options(config: str, folder: Optional[str] = None,
                  crop_size: Optional[int] = None,
                  crop_ratio: Optional[Tuple[float, float]] = None
                  ) -> Tuple[List[str], Crops]:
    """The ``--cfg-options`` and the crops of a pre-training of ``config``
    on the images under ``folder`` (None: the config's own data), its crops
    by :func:`folder_crops` and then ``crop_size`` / ``crop_ratio``. On the
    config's own data with no crop given, no option at all."""
    default = folder_crops(folder, config) if folder else config_crops(config)
    crops = given_crops(default, crop_size, crop_ratio)
    options = folder_options(folder) if folder else []
    if folder or crops is not default:
        options += crop_options(config, crops)
    return options, crops
