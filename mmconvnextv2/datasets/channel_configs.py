"""Turn an RGB config into one for images of C channels (any dtype).

:func:`set_image_channels` is the one option that makes the shipped
FCMAE, classifier, Mask R-CNN and UperNet configs (or any config of them)
take C-channel images: ``tools/train.py CONFIG --image-stats STATS`` calls
it with the channels, mean and std of a ``dataset.json`` or of
``tools/misc/image_stats.py --out``, and the config writer
(:mod:`.config_writer`) writes its edits into the configs it writes. It

* sets ``in_channels = C`` on the model's backbone;
* loads every image with :class:`LoadAnyImageFromFile` (dtype and bands
  kept) instead of mmcv's 8-bit colour loaders;
* removes the photometric transforms defined for RGB only
  (:data:`~.channel_checks.RGB_ONLY`; ``ColorJitter`` keeps its
  brightness), and, for images of a known dtype other than uint8, those
  defined on the 0-255 scale (:data:`EIGHT_BIT_ONLY`), also from
  auto-augment policies (the preset ones are written out without them);
  resizes with OpenCV instead of Pillow (and, beyond 4 channels, bilinear
  instead of OpenCV's ``'area'``); mmpretrain's ``RandomErasing`` (three
  8-bit fill values) becomes ``AnyChannelRandomErasing`` filling with the
  images' means (and stds), and a ``pad_val`` of three RGB values (also
  an auto-augment's ``hparams``) becomes the images' means;
* gives the data preprocessor the C means and stds, no channel swap, and
  for mmengine's ``ImgDataPreprocessor`` family its C-channel replacement
  (:data:`~mmconvnextv2.models.data_preprocessors.STOCK_REPLACEMENTS`).

The result passes :func:`~.channel_checks.check_channels`.
"""
import json
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config

from ..models.data_preprocessors import MAX_CHANNELS, STOCK_REPLACEMENTS
from ..utils.config import config_dicts
from ..utils.errors import reported
from .channel_checks import RGB_ONLY, bare_type, is_auto_augment, policies
from .config_datasets import DATALOADERS

__all__ = ['EIGHT_BIT_ONLY', 'ImageStatsError', 'read_image_stats',
           'apply_image_stats', 'adapt_pipeline', 'adapt_preprocessor',
           'set_image_channels']

#: The loaders :func:`adapt_pipeline` replaces by ``LoadAnyImageFromFile``.
COLOUR_LOADERS = ('LoadImageFromFile', 'CheckedLoadImageFromFile',
                  'DraftLoadImageFromFile')
#: Their arguments that ``LoadAnyImageFromFile`` takes too.
_KEPT_LOADER_ARGS = ('to_float32', 'ignore_empty', 'backend_args')
_SWAPS = ('bgr_to_rgb', 'rgb_to_bgr', 'to_rgb')
#: Transforms defined on the 0-255 scale of 8-bit images -> why; with the
#: arguments that make them so (None: any use). Removed for images of
#: another dtype.
EIGHT_BIT_ONLY: Dict[str, Tuple[str, Optional[Tuple[str, ...]]]] = {
    'Posterize': ('it keeps the top bits of 8-bit values', None),
    'Solarize': ('its threshold is on the 0-255 scale', None),
    'SolarizeAdd': ('it adds on the 0-255 scale', None),
    'Invert': ('it subtracts from 255', None),
    'Brightness': ('mmcv clips it to 0-255', None),
    'Sharpness': ('mmcv clips it to 0-255', None),
    'ColorJitter': ('mmcv clips its brightness to 0-255', ('brightness',)),
}
_PIPELINES = ('train_pipeline', 'val_pipeline', 'test_pipeline')


@reported
class ImageStatsError(ValueError):
    """Image figures that cannot make a C-channel config."""


def read_image_stats(path: str) -> Dict[str, Any]:
    """``channels``, ``mean`` and ``std`` of a JSON file: the importer's
    ``dataset.json`` or ``tools/misc/image_stats.py --out``.

    Raises:
        ImageStatsError: The file is not such JSON (one line, naming it).
    """
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        raise ImageStatsError(
            f'{path}: cannot be read as JSON ({err})') from None
    try:
        channels = int(data['channels'])
        mean = [float(v) for v in data['mean']]
        std = [float(v) for v in data['std']]
    except (KeyError, TypeError, ValueError):
        raise ImageStatsError(
            f'{path}: needs "channels" and per-channel "mean" and "std" (a '
            'dataset.json or the output of tools/misc/image_stats.py)'
        ) from None
    _check_values(channels, mean, std, path)
    dtype = data.get('dtype')
    return dict(channels=channels, mean=mean, std=std,
                dtype=dtype if isinstance(dtype, str) else None)


def apply_image_stats(cfg: Config, path: str) -> List[str]:
    """:func:`set_image_channels` with the figures of :func:`read_image_stats`
    (``tools/train.py --image-stats``); the changes made."""
    stats = read_image_stats(path)
    return set_image_channels(cfg, stats['channels'], stats['mean'],
                              stats['std'], stats['dtype'])


def _check_values(channels: int, mean: Sequence[float],
                  std: Sequence[float], where: str) -> None:
    if not 1 <= channels <= MAX_CHANNELS:
        raise ImageStatsError(f'{where}: {channels} channels; 1 to '
                              f'{MAX_CHANNELS} are supported')
    if len(mean) != channels or len(std) != channels or \
            not all(s > 0 for s in std):
        raise ImageStatsError(
            f'{where}: {channels} channels need {channels} mean and '
            f'{channels} positive std values, got {len(mean)} and '
            f'{len(std)}')


class _Target(NamedTuple):
    """The images a pipeline is adapted to."""
    channels: int
    dtype: Optional[str] = None          #: None: not known
    mean: Optional[Sequence[float]] = None
    std: Optional[Sequence[float]] = None


def _erasing(node: dict, target: _Target, changes: List[str]) -> dict:
    """mmpretrain's ``RandomErasing`` (three 8-bit fill values) ->
    ``AnyChannelRandomErasing`` filling with the images' means (and
    stds), for other than 3-channel uint8 images."""
    if target.channels == 3 and target.dtype in (None, 'uint8'):
        return node
    node = dict(node, type='AnyChannelRandomErasing')
    if target.mean is not None:
        node['fill_color'] = list(target.mean)
        if node.get('fill_std') is not None:
            node['fill_std'] = list(target.std)
    changes.append('RandomErasing -> AnyChannelRandomErasing'
                   + (' (fills with the images\' means'
                      + (' and stds)' if node.get('fill_std') is not None
                         else ')') if target.mean is not None else ''))
    return node


def _fill(value: Any, target: _Target) -> Any:
    """A 3-value (RGB) pad / border value -> the images' means."""
    if isinstance(value, dict):
        return {k: _fill(v, target) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and len(value) == 3:
        integer = target.dtype is not None and target.dtype.startswith(
            ('uint', 'int'))
        return [round(m) if integer else m for m in target.mean]
    return value


def _pad_values(node: dict, target: _Target, changes: List[str]) -> dict:
    """``pad_val`` (also in an auto-augment's ``hparams``) of three RGB
    values -> the images' means, for other than 3-channel uint8 images."""
    if target.mean is None or (target.channels == 3
                               and target.dtype in (None, 'uint8')):
        return node
    name = bare_type(node.get('type'))
    for home, where in ((node, ''), (node.get('hparams'), 'hparams.')):
        if isinstance(home, dict) and 'pad_val' in home:
            filled = _fill(home['pad_val'], target)
            if filled != home['pad_val']:
                home = dict(home, pad_val=filled)
                node = dict(node, hparams=home) if where else home
                changes.append(f"{name}: {where}pad_val -> the images' "
                               'means')
    return node


def _without(node: dict, name: str,
             rule: Tuple[str, Optional[Tuple[str, ...]]],
             changes: List[str]) -> Optional[dict]:
    """``node`` without the arguments of ``rule`` (``(why, args)``), or
    None: removed (``args`` None, or nothing left of a ``ColorJitter``)."""
    why, args = rule
    if args is None:
        changes.append(f'{name} removed ({why})')
        return None
    used = [a for a in args if node.get(a)]
    if used:
        changes.append(f'{name}: {", ".join(used)} removed ({why})')
        node = {k: v for k, v in node.items() if k not in used}
    return node


def _adapt_transform(node: dict, target: _Target, changes: List[str],
                     scope: Optional[str]) -> Optional[dict]:
    """The C-channel version of one transform config (None: removed)."""
    name = bare_type(node.get('type'))
    channels = target.channels
    if is_auto_augment(node):  # the policies without RGB-only operations
        node = dict(node)
        for arg, value in policies(node, scope):
            kept = _adapt(value, target, changes, scope)
            node[arg] = [p for p in kept if not isinstance(p, list) or p]
    if name == 'RandomErasing':
        node = _erasing(node, target, changes)
    node = _pad_values(node, target, changes)
    if name in RGB_ONLY:
        node = _without(node, name, RGB_ONLY[name], changes)
    if node is not None and name in EIGHT_BIT_ONLY and \
            target.dtype not in (None, 'uint8'):
        why, args = EIGHT_BIT_ONLY[name]
        node = _without(node, name, (f'{why}; the images are '
                                     f'{target.dtype}', args), changes)
    if node is None:
        return None
    if name in COLOUR_LOADERS:
        kept = {k: node[k] for k in _KEPT_LOADER_ARGS if k in node}
        changes.append(f'{name} -> LoadAnyImageFromFile')
        return dict(type='LoadAnyImageFromFile', **kept)
    if name == 'LoadAnyImageFromFile' and (node.get('to_rgb8') or (
            node.get('channels') is not None
            and len(node['channels']) != channels)):
        raise ImageStatsError(
            f'LoadAnyImageFromFile({_loader_args(node)}) does not give the '
            f'{channels} channel(s) asked for')
    node = dict(node)
    if node.get('backend') == 'pillow':
        node['backend'] = 'cv2'
        changes.append(f"{name}: backend 'pillow' -> 'cv2'")
    if channels > 4 and node.get('interpolation') == 'area':
        node['interpolation'] = 'bilinear'
        changes.append(f"{name}: interpolation 'area' -> 'bilinear'")
    if name == 'Normalize':
        node['to_rgb'] = False
    return node


def _loader_args(node: dict) -> str:
    return ', '.join(f'{k}={node[k]!r}' for k in ('to_rgb8', 'channels')
                     if node.get(k) is not None)


def _adapt(node: Any, target: _Target, changes: List[str],
           scope: Optional[str] = None) -> Any:
    if isinstance(node, (list, tuple)):
        kept = []
        for item in node:
            item = _adapt(item, target, changes, scope)
            if item is not None:
                kept.append(item)
        return type(node)(kept)
    if not isinstance(node, dict):
        return node
    if 'type' in node:
        node = _adapt_transform(node, target, changes, scope)
        if node is None:
            return None
    return {k: _adapt(v, target, changes, scope)
            if isinstance(v, (list, tuple)) else v for k, v in node.items()}


def adapt_pipeline(pipeline: Sequence[Any], channels: int,
                   changes: Optional[List[str]] = None,
                   scope: Optional[str] = None, dtype: Optional[str] = None,
                   mean: Optional[Sequence[float]] = None,
                   std: Optional[Sequence[float]] = None) -> list:
    """``pipeline`` (a list of transform configs, nested ones included)
    for C-channel images of ``dtype`` (None: not known) normalised by
    ``mean`` / ``std`` (see the module doc); each change is appended to
    ``changes`` as one line.

    Raises:
        ImageStatsError: A ``LoadAnyImageFromFile`` converts to 8-bit RGB or
            selects another number of bands.
    """
    return list(_adapt(list(pipeline), _Target(channels, dtype, mean, std),
                       [] if changes is None else changes, scope))


def adapt_preprocessor(node: Optional[dict], mean: Sequence[float],
                       std: Sequence[float]) -> dict:
    """The data preprocessor config ``node`` (its ``type`` or none) with
    C-value ``mean`` / ``std``, no channel swap, and the C-channel
    replacement of a stock ``ImgDataPreprocessor`` type: the keys to
    set."""
    node = dict(node or {})
    out: Dict[str, Any] = dict(mean=list(mean), std=list(std))
    kind = node.get('type')
    if len(mean) != 3 and bare_type(kind) in STOCK_REPLACEMENTS:
        out['type'] = kind[:-len(bare_type(kind))] + STOCK_REPLACEMENTS[
            bare_type(kind)]
    for key in _SWAPS:
        if node.get(key):
            out[key] = False
    return out


def _preprocessor_homes(cfg: Config) -> List[Tuple[dict, str]]:
    """The dicts holding a data preprocessor config (the model's, the
    top-level one) and where they are; the top level if none has one."""
    homes = [(home, where) for home, where in (
        (cfg.get('model') or {}, 'model.data_preprocessor'),
        (cfg, 'data_preprocessor'))
        if isinstance(home.get('data_preprocessor'), dict)]
    return homes or [(cfg, 'data_preprocessor')]


def set_image_channels(cfg: Config, channels: int, mean: Sequence[float],
                       std: Sequence[float], dtype: Optional[str] = None
                       ) -> List[str]:
    """Make ``cfg`` (in place) take images of ``channels`` channels and
    ``dtype`` (None: not known) normalised by ``mean`` / ``std`` (see the
    module doc); the changes made, one line each.

    Raises:
        ImageStatsError: Bad values, or a model without a backbone.
    """
    _check_values(channels, mean, std, 'set_image_channels')
    backbones = [node['backbone'] for node in config_dicts(cfg.get('model'))
                 if isinstance(node.get('backbone'), dict)]
    if not backbones:
        raise ImageStatsError('set_image_channels: the config\'s model has '
                              'no backbone')
    scope = cfg.get('default_scope')
    changes = [f'model.backbone.in_channels = {channels}']
    for backbone in backbones:
        backbone['in_channels'] = channels
    for home, where in _preprocessor_homes(cfg):
        node = home.get('data_preprocessor') or {}
        home['data_preprocessor'] = dict(node, **adapt_preprocessor(
            node, mean, std))
        changes.append(f'{where}: {home["data_preprocessor"].get("type", "")}'
                       f' with {channels} means and stds, no channel swap')
    for loader in DATALOADERS:
        for dataset in config_dicts((cfg.get(loader) or {}).get('dataset')):
            if isinstance(dataset.get('pipeline'), (list, tuple)):
                found: List[str] = []
                dataset['pipeline'] = adapt_pipeline(
                    dataset['pipeline'], channels, found, scope, dtype,
                    mean, std)
                changes += [f'{loader}: {c}' for c in found]
    for name in _PIPELINES:  # the variables, as the dataloaders now read
        if isinstance(cfg.get(name), (list, tuple)):
            cfg[name] = adapt_pipeline(cfg[name], channels, scope=scope,
                                       dtype=dtype, mean=mean, std=std)
    return changes
