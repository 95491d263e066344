"""Loading a checkpoint of any known layout into a ConvNeXt V2 backbone."""
import os
from typing import Mapping, Optional, Sequence, Union

from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import load_state_dict
from torch import Tensor, nn

from .io import read_checkpoint
from .layouts import (backbone_part, convert_state, detect_layout,
                      infer_arch, unwrap_state)


def _arch_name(depths: Sequence[int], channels: Sequence[int],
               arch_settings: Mapping[str, Mapping]) -> Optional[str]:
    for name, setting in arch_settings.items():
        if (list(setting['depths']) == list(depths)
                and list(setting['channels']) == list(channels)):
            return name
    return None


def check_arch(backbone: nn.Module, backbone_state: Mapping[str, Tensor],
               source: str) -> None:
    """Raise a clear error when a checkpoint holds another ConvNeXt V2 size.

    Args:
        backbone: The model, with ``depths``, ``channels`` (and usually
            ``arch_settings``/``arch_name``) attributes, as ``ConvNeXtV2``.
        backbone_state: Our backbone keys, without the ``backbone.`` prefix.
        source: How to name the checkpoint in the message (its path).

    Raises:
        ValueError: Depths or channels differ; the message names both sides
            and the known arch of each where there is one.
    """
    depths, channels = infer_arch(backbone_state)
    want_depths, want_channels = list(backbone.depths), list(backbone.channels)
    if depths == want_depths and channels == want_channels:
        return
    settings = getattr(backbone, 'arch_settings', {})
    found = _arch_name(depths, channels, settings)
    found = f" (arch '{found}')" if found else ''
    model_arch = getattr(backbone, 'arch_name', None) or _arch_name(
        want_depths, want_channels, settings) or 'custom'
    raise ValueError(
        f'checkpoint {source} holds a ConvNeXt V2 with depths {depths} and '
        f'channels {channels}{found}, but the model is arch {model_arch!r} '
        f'with depths {want_depths} and channels {want_channels}')


def load_backbone_checkpoint(backbone: nn.Module,
                             filename: Union[str, os.PathLike],
                             prefix: Optional[str] = None,
                             map_location: Optional[str] = 'cpu') -> None:
    """Load the backbone weights of any known ConvNeXt V2 checkpoint.

    Reads the file, keeps the keys under ``prefix`` (stripped) if given,
    converts whatever layout it is in to ours, checks that the sizes match
    and loads non-strictly, so that mmengine logs missing/unexpected keys.

    Args:
        backbone: A ``ConvNeXtV2``.
        filename: Local path (torch, ``.safetensors`` or a ``save_pretrained``
            directory) or URI.
        prefix: Keep only the keys under this prefix, e.g. ``'backbone.'``
            for a whole detector's checkpoint.
        map_location: As for :func:`torch.load`.

    Raises:
        ValueError: Unknown layout, no backbone weights, or another size.
    """
    source = os.fspath(filename)
    logger = MMLogger.get_current_instance()
    state = unwrap_state(read_checkpoint(source, map_location=map_location))
    if prefix:
        if not prefix.endswith('.'):
            prefix += '.'
        state = type(state)((k[len(prefix):], v) for k, v in state.items()
                            if k.startswith(prefix))
        if not state:
            raise ValueError(f'checkpoint {source} has no keys under the '
                             f'prefix {prefix!r}')
    layout = detect_layout(state)
    weights = backbone_part(convert_state(state, layout))
    if not weights:
        raise ValueError(f'checkpoint {source} ({layout} layout) holds no '
                         'ConvNeXt V2 backbone weights')
    check_arch(backbone, weights, source)
    logger.info(f'load ConvNeXt V2 backbone from {source}: {layout} layout, '
                f'{len(weights)} tensors')
    load_state_dict(backbone, weights, strict=False, logger=logger)


__all__ = ['check_arch', 'load_backbone_checkpoint']
