"""Checks of a config whose images do not have three channels.

The model's image channels C are its backbone's ``in_channels`` (3 when not
set). For C != 3 a config is refused, one line per problem, when

* a dataloader pipeline holds a photometric transform that is defined only
  for RGB images (:data:`RGB_ONLY`: it converts to HSV or grey, uses RGB
  constants, or handles exactly three channels), directly or inside an
  ``AutoAugment`` / ``RandAugment`` policy (the preset ones included);
  geometric transforms, blur, brightness and the like work on C channels
  and pass, unless they resize with Pillow (``backend='pillow'``: 8-bit
  grey and RGB only) or, for C > 4, with OpenCV's ``'area'`` interpolation;
  mmpretrain's ``RandomErasing`` (three 8-bit fill values) and a
  ``pad_val`` (also an auto-augment's ``hparams``) of other than C values
  are refused too;
* a pipeline loads its images as 8-bit colour: mmcv's ``LoadImageFromFile``
  (other than grey for C = 1), or ``LoadAnyImageFromFile`` with
  ``to_rgb8=True`` or a ``channels`` selection of another length than C;
* mmcv's ``Normalize`` in a pipeline swaps channels (its default
  ``to_rgb=True``) or has other than C mean values;
* the data preprocessor's ``mean`` or ``std`` has other than C values, it
  swaps channels (``bgr_to_rgb`` / ``to_rgb`` / ``rgb_to_bgr``), or it is
  one of mmengine's ``ImgDataPreprocessor`` family (mmpretrain's
  ``SelfSupDataPreprocessor``, mmdet's ``DetDataPreprocessor``), which
  normalise 1 or 3 channels only, given a ``mean`` of C values (C other
  than 1 and 3); the message names the replacement of
  :mod:`mmconvnextv2.models.data_preprocessors` that takes them.

A 3-channel config is not checked: its behaviour is the stock one.
"""
import inspect
import sys
from typing import Any, Dict, Iterator, List, Optional, Tuple

from mmengine.config import Config

from ..models.data_preprocessors import STOCK_REPLACEMENTS
from ..utils.config import config_dicts
from .config_datasets import DATALOADERS
from .problems import DatasetConfigError

__all__ = ['RGB_ONLY', 'ChannelConfigError', 'model_channels',
           'is_auto_augment', 'policies',
           'channel_problems', 'check_channels']

#: Transforms defined for RGB images only -> why; with the arguments that
#: make them so (None: any use of the transform).
RGB_ONLY: Dict[str, Tuple[str, Optional[Tuple[str, ...]]]] = {
    'PhotoMetricDistortion': (
        'its saturation and hue steps convert to HSV', None),
    'YOLOXHSVRandomAug': ('it converts to HSV', None),
    'ColorJitter': ('its contrast, saturation and hue steps work on RGB '
                    '(grey and HSV conversions)',
                    ('contrast', 'saturation', 'hue')),
    'Lighting': ('it adds the PCA noise of RGB pixels', None),
    'RandomGrayscale': ('it converts RGB to grey', None),
    'RGB2Gray': ('it converts RGB to grey', None),
    'ColorTransform': ('it blends with the grey of an RGB image', None),
    'Color': ('it blends with the grey of an RGB image', None),
    'Contrast': ('it blends with the grey mean of an RGB image', None),
    'Equalize': ('mmcv equalizes exactly three channels', None),
    'AutoContrast': ('mmcv stretches exactly three channels', None),
    'Corrupt': ('imagecorruptions works on RGB images', None),
}

#: Preset policy tables of the auto-augment wrappers (a policy given by
#: name), in the wrapper's module.
_POLICY_TABLES = {'AutoAugment': 'AUTOAUG_POLICIES',
                  'RandAugment': 'RANDAUG_POLICIES'}
_POLICY_ARGS = ('policies', 'aug_space')
_STOCK_LOADERS = ('LoadImageFromFile', 'CheckedLoadImageFromFile',
                  'DraftLoadImageFromFile')
_SWAPS = ('bgr_to_rgb', 'to_rgb', 'rgb_to_bgr')


class ChannelConfigError(DatasetConfigError):
    """A config whose transforms or data preprocessor do not fit its
    image channels."""


def bare_type(kind: Any) -> str:
    """A config ``type``'s class name without its scope (``mmdet.X`` -> X)."""
    return kind.split('.')[-1] if isinstance(kind, str) else \
        getattr(kind, '__name__', '')


def model_channels(cfg: Config) -> int:
    """The image channels of ``cfg``'s model: its backbone's
    ``in_channels`` (3 when not given)."""
    for node in config_dicts(cfg.get('model')):
        backbone = node.get('backbone')
        if isinstance(backbone, dict):
            return int(backbone.get('in_channels', 3))
    return 3


def _transform_class(kind: str, scope: Optional[str]) -> Optional[type]:
    try:
        from mmengine.registry import TRANSFORMS
        with TRANSFORMS.switch_scope_and_registry(scope) as registry:
            return registry.get(kind)
    except Exception:  # noqa: BLE001  (unknown scope or type: the runner says)
        return None


def is_auto_augment(node: dict) -> bool:
    """Whether a transform config is an auto-augment wrapper."""
    return bare_type(node.get('type')) in _POLICY_TABLES or any(
        arg in node for arg in _POLICY_ARGS)


def policies(node: dict, scope: Optional[str]) -> List[Tuple[str, Any]]:
    """``(argument, sub-transform configs)`` of an auto-augment wrapper:
    given, named (a preset table) or its class default."""
    cls = _transform_class(node['type'], scope) if isinstance(
        node.get('type'), str) else node.get('type')
    found = []
    for arg in _POLICY_ARGS:
        value = node.get(arg)
        if value is None and cls is not None:
            param = inspect.signature(cls).parameters.get(arg)
            if param is not None and param.default is not param.empty:
                value = param.default
        if isinstance(value, str) and cls is not None:
            table = getattr(sys.modules[cls.__module__],
                            _POLICY_TABLES.get(bare_type(cls), ''), {})
            value = table.get(value)
        if value is not None:
            found.append((arg, value))
    return found


def _transforms(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """``(where, transform config)`` of every transform under the
    dataloaders, auto-augment policies included."""
    scope = cfg.get('default_scope')
    for loader in DATALOADERS:
        for node in config_dicts(cfg.get(loader)):
            if not isinstance(node.get('type'), (str, type)):
                continue
            yield loader, node
            if is_auto_augment(node):
                for sub in config_dicts([v for _, v in policies(node,
                                                                scope)]):
                    if 'type' in sub:
                        yield f'{loader}, in {bare_type(node["type"])}', sub


def _transform_problem(node: dict, channels: int) -> Optional[str]:
    name = bare_type(node['type'])
    if name in RGB_ONLY:
        why, args = RGB_ONLY[name]
        used = None if args is None else [a for a in args if node.get(a)]
        if used is None or used:
            what = name if used is None else f'{name} ({", ".join(used)})'
            return (f'{what} is defined for RGB images only ({why}), but '
                    f'the model takes {channels} channel(s)')
    if name == 'RandomErasing':
        return (f'RandomErasing fills three 8-bit channels, but the model '
                f'takes {channels} channel(s): use AnyChannelRandomErasing')
    for home, where in ((node, ''), (node.get('hparams'), 'hparams.')):
        pad = home.get('pad_val') if isinstance(home, dict) else None
        pads = pad.values() if isinstance(pad, dict) else [pad]
        if any(isinstance(p, (list, tuple)) and len(p) != channels
               for p in pads):
            return (f'{name} pads with {where}pad_val={pad!r}, but the model'
                    f' takes {channels} channel(s): give one value per '
                    'channel')
    if node.get('backend') == 'pillow':
        return (f"{name}(backend='pillow'): Pillow handles 8-bit grey and "
                f'RGB images only, but the model takes {channels} '
                "channel(s): set backend='cv2'")
    if channels > 4 and node.get('interpolation') == 'area':
        return (f"{name}(interpolation='area'): OpenCV's area resize takes "
                f'at most 4 channels, but the model takes {channels}')
    if name in _STOCK_LOADERS and not (
            channels == 1 and node.get('color_type') == 'grayscale'):
        return (f'{name} decodes to 8-bit colour (3 channels), but the model '
                f'takes {channels} channel(s): load with '
                'LoadAnyImageFromFile')
    if name == 'Normalize':
        values = len(node.get('mean') or ())
        if node.get('to_rgb', True):
            return (f'Normalize swaps channels 0 and 2 of RGB images '
                    f'(to_rgb=True), but the model takes {channels} '
                    'channel(s): set to_rgb=False')
        if values != channels:
            return (f'Normalize has {values} mean value(s), but the model '
                    f'takes {channels} channel(s)')
    if name == 'LoadAnyImageFromFile':
        if node.get('to_rgb8'):
            return (f'LoadAnyImageFromFile(to_rgb8=True) gives 3 channels, '
                    f'but the model takes {channels}')
        selected = node.get('channels')
        if selected is not None and len(selected) != channels:
            return (f'LoadAnyImageFromFile selects {len(selected)} '
                    f'channel(s) {list(selected)}, but the model takes '
                    f'{channels}')
    return None


def _preprocessor(cfg: Config) -> Tuple[str, dict]:
    """The data preprocessor config the runner builds (the model's, else
    the top-level one) and where it is."""
    own = (cfg.get('model') or {}).get('data_preprocessor')
    if own is not None:
        return 'model.data_preprocessor', dict(own)
    return 'data_preprocessor', dict(cfg.get('data_preprocessor') or {})


def _preprocessor_problems(cfg: Config, channels: int) -> List[str]:
    where, node = _preprocessor(cfg)
    found = []
    for key in ('mean', 'std'):
        values = node.get(key)
        if values is not None and len(values) != channels:
            found.append(f'{where}.{key} has {len(values)} value(s), but the '
                         f'model takes {channels} channel(s)')
    for key in _SWAPS:
        if node.get(key):
            found.append(f'{where}.{key}=True swaps channels 0 and 2 of RGB '
                         f'images, but the model takes {channels} '
                         'channel(s): set it False')
    kind = node.get('type')
    cls = None
    if isinstance(kind, str):
        from mmengine.registry import MODELS
        try:
            with MODELS.switch_scope_and_registry(
                    cfg.get('default_scope')) as registry:
                cls = registry.get(kind)
        except Exception:  # noqa: BLE001  (the runner names an unknown type)
            cls = None
    if cls is not None and node.get('mean') is not None and \
            channels not in (1, 3) and _normalises_rgb_only(cls):
        instead = STOCK_REPLACEMENTS.get(cls.__name__)
        fix = (f"type='{instead}' (the same class, {channels} values)"
               if instead else f'normalise in the pipeline (Normalize with '
               f'{channels} values) and set its mean and std to None')
        found.append(f'{where} {cls.__name__} normalises 1 or 3 channels '
                     f'only (mmengine ImgDataPreprocessor), the model takes '
                     f'{channels}: {fix}')
    return found


def _normalises_rgb_only(cls: type) -> bool:
    """Whether ``cls`` is of mmengine's ``ImgDataPreprocessor`` family
    without the C-value normalisation of ours."""
    from ..models.data_preprocessors import AnyChannelMixin
    return not issubclass(cls, AnyChannelMixin) and any(
        base.__name__ == 'ImgDataPreprocessor' for base in cls.__mro__)


def channel_problems(cfg: Config) -> List[str]:
    """Every problem of ``cfg`` with its model's image channels (see the
    module doc), one line each; none for a 3-channel model."""
    channels = model_channels(cfg)
    if channels == 3:
        return []
    found = []
    for loader, node in _transforms(cfg):
        problem = _transform_problem(node, channels)
        if problem is not None:
            found.append(f'{loader}: {problem}')
    return found + _preprocessor_problems(cfg, channels)


def check_channels(cfg: Config) -> None:
    """Raise :class:`ChannelConfigError` with the first of
    :func:`channel_problems`."""
    problems = channel_problems(cfg)
    if problems:
        raise ChannelConfigError(problems[0])
