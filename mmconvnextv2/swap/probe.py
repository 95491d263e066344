"""The original backbone: where it sits in the model config, and the width
and stride of each of its outputs, measured by running it on CPU."""
import copy
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple, Union

import torch

from ..runtime import drop_pretrained
from ..utils import one_line, revert_sync_bn
from .tree import Path, SwapError, dotted, get_path, plain

__all__ = ['FeatureMap', 'parse_arch', 'find_backbone', 'nested_backbone',
           'original_backbone', 'probe_backbone']


@dataclass
class FeatureMap:
    """One backbone output as measured."""
    channels: int
    stride: int


def parse_arch(arch: Union[str, dict]) -> Tuple[Union[str, dict], List[int], List[int]]:
    """``arch`` as the backbone takes it, with its depths and widths."""
    from ..models import ConvNeXtV2
    name, depths, channels = ConvNeXtV2._parse_arch(arch)
    return (name if name != 'custom' else dict(depths=depths, channels=channels),
            depths, channels)


def find_backbone(model: dict, path: Path = ('model', )) -> Path:
    """Path of the dict that owns the model's ``backbone`` (breadth first)."""
    queue = [(path, model)]
    while queue:
        here, node = queue.pop(0)
        if isinstance(node.get('backbone'), dict) and 'type' in node['backbone']:
            return here
        queue += [(here + (k, ), v) for k, v in node.items()
                  if isinstance(v, dict) and not k.endswith('_cfg')]
    raise SwapError(f'model ({model.get("type")}) has no `backbone` to replace: '
                    'not a backbone-neck-head model')


def nested_backbone(node: Any, path: Path) -> Optional[Path]:
    """Path of a ``*backbone*`` key below ``node`` (a network inside it)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'init_cfg':
                continue
            if 'backbone' in key and isinstance(value, (dict, str)):
                return path + (key, )
            found = nested_backbone(value, path + (key, ))
            if found:
                return found
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found = nested_backbone(value, path + (i, ))
            if found:
                return found
    return None


def original_backbone(model: dict) -> Tuple[Path, dict]:
    """The path of the dict that owns the backbone, and that dict; refused
    when the backbone wraps a backbone of its own."""
    owner_path = find_backbone(model)
    owner = get_path(dict(model=model), owner_path)
    inner = nested_backbone(owner['backbone'], owner_path + ('backbone', ))
    if inner:
        raise SwapError(f'{dotted(inner)}: {owner["backbone"]["type"]} wraps a '
                        'backbone of its own; the architecture lives inside the '
                        'backbone and cannot be rewritten')
    return owner_path, owner


def _run_at_some_size(module: torch.nn.Module, channels: Any,
                      sizes: List[int]) -> Tuple[Any, int]:
    """The outputs of ``module`` on two blank images of the first side in
    ``sizes`` that it runs at, and that side."""
    for i, side in enumerate(sizes):
        x = torch.zeros(2, channels if isinstance(channels, int) else 3,
                        side, side)
        try:
            with torch.no_grad():
                return module(x), side
        except Exception:  # noqa: BLE001  (then at its own size)
            if i == len(sizes) - 1:
                raise
    raise AssertionError('unreachable')  # pragma: no cover


def probe_backbone(backbone: dict, scope: str, path: Path,
                   size: int = 256) -> List[FeatureMap]:
    """Build the original backbone on CPU (no weights loaded) and run its
    training forward (some backbones give their heads more outputs then) on
    two blank ``size`` x ``size`` images, or at the backbone's own
    ``img_size`` if it needs that: the width and stride of each output."""
    from mmengine.registry import MODELS, DefaultScope
    cfg = dict(backbone=copy.deepcopy(plain(backbone)))
    drop_pretrained(cfg)
    revert_sync_bn(cfg)
    name = f'{dotted(path)} ({backbone.get("type")})'
    own = cfg['backbone'].get('img_size')
    own = own[0] if isinstance(own, (list, tuple)) else own
    sizes = [size] + ([own] if isinstance(own, int) and own != size else [])
    try:
        with DefaultScope.overwrite_default_scope(scope):
            with MODELS.switch_scope_and_registry(scope) as models:
                module = models.build(cfg['backbone'])
        module.train()
        outputs, size = _run_at_some_size(
            module, cfg['backbone'].get('in_channels', 3), sizes)
    except Exception as err:  # noqa: BLE001  (any failure is reported)
        raise SwapError(f'{name} could not be run to measure its outputs: '
                        f'{one_line(err, with_type=True)}') from err
    if isinstance(outputs, torch.Tensor):
        outputs = [outputs]
    maps = []
    for i, out in enumerate(outputs):
        if not isinstance(out, torch.Tensor) or out.dim() != 4:
            raise SwapError(f'{name} output {i} is not a feature map '
                            f'({type(out).__name__}): its readers expect '
                            'more than ConvNeXt V2 gives')
        maps.append(FeatureMap(int(out.shape[1]),
                               max(1, round(size / out.shape[-1]))))
    return maps
