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
  brightness), also from auto-augment policies (the preset ones are
  written out without them); resizes with OpenCV instead of Pillow (and,
  beyond 4 channels, bilinear instead of OpenCV's ``'area'``);
* gives the data preprocessor the C means and stds, no channel swap, and
  for mmengine's ``ImgDataPreprocessor`` family its C-channel replacement
  (:data:`~mmconvnextv2.models.data_preprocessors.STOCK_REPLACEMENTS`).

The result passes :func:`~.channel_checks.check_channels`.
"""
import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config

from ..models.data_preprocessors import MAX_CHANNELS, STOCK_REPLACEMENTS
from ..utils.config import config_dicts
from ..utils.errors import reported
from .channel_checks import RGB_ONLY, bare_type, is_auto_augment, policies
from .config_datasets import DATALOADERS

__all__ = ['ImageStatsError', 'read_image_stats', 'apply_image_stats',
           'adapt_pipeline', 'adapt_preprocessor', 'set_image_channels']

#: The loaders :func:`adapt_pipeline` replaces by ``LoadAnyImageFromFile``.
COLOUR_LOADERS = ('LoadImageFromFile', 'CheckedLoadImageFromFile',
                  'DraftLoadImageFromFile')
#: Their arguments that ``LoadAnyImageFromFile`` takes too.
_KEPT_LOADER_ARGS = ('to_float32', 'ignore_empty', 'backend_args')
_SWAPS = ('bgr_to_rgb', 'rgb_to_bgr', 'to_rgb')
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
    return dict(channels=channels, mean=mean, std=std)


def apply_image_stats(cfg: Config, path: str) -> List[str]:
    """:func:`set_image_channels` with the figures of :func:`read_image_stats`
    (``tools/train.py --image-stats``); the changes made."""
    stats = read_image_stats(path)
    return set_image_channels(cfg, stats['channels'], stats['mean'],
                              stats['std'])


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


def _adapt_transform(node: dict, channels: int, changes: List[str],
                     scope: Optional[str]) -> Optional[dict]:
    """The C-channel version of one transform config (None: removed)."""
    name = bare_type(node.get('type'))
    if is_auto_augment(node):  # the policies without RGB-only operations
        node = dict(node)
        for arg, value in policies(node, scope):
            kept = _adapt(value, channels, changes, scope)
            node[arg] = [p for p in kept if not isinstance(p, list) or p]
    if name in RGB_ONLY:
        why, args = RGB_ONLY[name]
        if args is None:
            changes.append(f'{name} removed ({why})')
            return None
        used = [a for a in args if node.get(a)]
        if used:
            changes.append(f'{name}: {", ".join(used)} removed ({why})')
            node = {k: v for k, v in node.items() if k not in used}
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


def _adapt(node: Any, channels: int, changes: List[str],
           scope: Optional[str] = None) -> Any:
    if isinstance(node, (list, tuple)):
        kept = []
        for item in node:
            item = _adapt(item, channels, changes, scope)
            if item is not None:
                kept.append(item)
        return type(node)(kept)
    if not isinstance(node, dict):
        return node
    if 'type' in node:
        node = _adapt_transform(node, channels, changes, scope)
        if node is None:
            return None
    return {k: _adapt(v, channels, changes, scope)
            if isinstance(v, (list, tuple)) else v for k, v in node.items()}


def adapt_pipeline(pipeline: Sequence[Any], channels: int,
                   changes: Optional[List[str]] = None,
                   scope: Optional[str] = None) -> list:
    """``pipeline`` (a list of transform configs, nested ones included)
    for C-channel images (see the module doc); each change is appended to
    ``changes`` as one line.

    Raises:
        ImageStatsError: A ``LoadAnyImageFromFile`` converts to 8-bit RGB or
            selects another number of bands.
    """
    return list(_adapt(list(pipeline), channels,
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
                       std: Sequence[float]) -> List[str]:
    """Make ``cfg`` (in place) take images of ``channels`` channels
    normalised by ``mean`` / ``std`` (see the module doc); the changes
    made, one line each.

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
                    dataset['pipeline'], channels, found, scope)
                changes += [f'{loader}: {c}' for c in found]
    for name in _PIPELINES:  # the variables, as the dataloaders now read
        if isinstance(cfg.get(name), (list, tuple)):
            cfg[name] = adapt_pipeline(cfg[name], channels, scope=scope)
    return changes
