"""Loading a checkpoint of any known layout into a ConvNeXt V2 backbone."""
import os
import re
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import load_state_dict
from torch import Tensor, nn

from .channels import STEM_KEY, fit_stem, stem_in_channels
from .io import CheckpointMismatchError, read_checkpoint
from .layouts import (backbone_part, convert_state, detect_layout,
                      infer_arch, unwrap_state)


def _arch_name(depths: Sequence[int], channels: Sequence[int],
               arch_settings: Mapping[str, Mapping]) -> Optional[str]:
    for name, setting in arch_settings.items():
        if (list(setting['depths']) == list(depths)
                and list(setting['channels']) == list(channels)):
            return name
    return None


def _convert(state: Mapping[str, Tensor], source: str,
             allow_v1: bool = False) -> Tuple[str, Mapping[str, Tensor]]:
    """Detect ``state``'s layout and convert it to ours; a state of no known
    layout raises :class:`CheckpointMismatchError` naming ``source``."""
    try:
        layout = detect_layout(state, allow_v1=allow_v1)
        return layout, convert_state(state, layout)
    except CheckpointMismatchError:
        raise
    except ValueError as err:
        raise CheckpointMismatchError(f'checkpoint {source}: {err}') from err


def check_arch(backbone: nn.Module, backbone_state: Mapping[str, Tensor],
               source: str) -> None:
    """Raise a clear error when a checkpoint holds another ConvNeXt V2 size.

    Args:
        backbone: The model, with ``depths``, ``channels`` (and usually
            ``arch_settings``/``arch_name``) attributes, as ``ConvNeXtV2``.
        backbone_state: Our backbone keys, without the ``backbone.`` prefix.
        source: How to name the checkpoint in the message (its path).

    Raises:
        CheckpointMismatchError: Depths or channels differ; the message
            names both sides and the known arch of each where there is one.
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
    raise CheckpointMismatchError(
        f'checkpoint {source} holds a ConvNeXt V2 with depths {depths} and '
        f'channels {channels}{found}, but the model is arch {model_arch!r} '
        f'with depths {want_depths} and channels {want_channels}')


def _is_v1(backbone: nn.Module) -> bool:
    """Whether ``backbone`` was built with ConvNeXt V1 blocks."""
    return getattr(backbone, 'block_type', 'v2') == 'v1'


def check_block_type(backbone: nn.Module,
                     backbone_state: Mapping[str, Tensor], source: str) -> None:
    """Raise a clear error when the backbone weights' blocks are of the other
    type: V2 (GRN) weights for a ``block_type='v1'`` backbone, or V1
    (LayerScale ``stages.{s}.{b}.gamma``, no GRN) weights for a V2 one (a
    V1 FCMAE file gets past :func:`detect_layout` by its V2 decoder)."""
    has_grn = any('.grn.' in k for k in backbone_state)
    has_layer_scale = any(re.match(r'stages\.\d+\.\d+\.gamma$', k)
                          for k in backbone_state)
    if _is_v1(backbone) and has_grn:
        raise CheckpointMismatchError(
            f'checkpoint {source} holds ConvNeXt V2 blocks (GRN), but the '
            "model is built with block_type='v1'")
    if not _is_v1(backbone) and has_layer_scale and not has_grn:
        raise CheckpointMismatchError(
            f'checkpoint {source} holds ConvNeXt V1 blocks (LayerScale, no '
            "GRN), but the model is built with block_type='v2'")


def load_backbone_checkpoint(backbone: nn.Module,
                             filename: Union[str, os.PathLike],
                             prefix: Optional[str] = None,
                             map_location: Optional[str] = 'cpu',
                             stem_rule: Any = 'mean') -> None:
    """Load the backbone weights of any known ConvNeXt V2 checkpoint.

    Reads the file, keeps the keys under ``prefix`` (stripped) if given,
    converts whatever layout it is in to ours, checks that the sizes match,
    adapts a 3-channel stem to the model's ``in_channels`` by ``stem_rule``
    (see :mod:`.channels`) and loads non-strictly, so that mmengine logs
    missing/unexpected keys.

    Args:
        backbone: A ``ConvNeXtV2``.
        filename: Local path (torch, ``.safetensors`` or a ``save_pretrained``
            directory) or URI.
        prefix: Keep only the keys under this prefix, e.g. ``'backbone.'``
            for a whole detector's checkpoint.
        map_location: As for :func:`torch.load`.
        stem_rule: How 3-channel stem weights start a stem of other
            ``in_channels``: ``'mean'``, ``'timm'`` or ``dict(type='rgb',
            bands=[r, g, b])``.

    Raises:
        CheckpointMismatchError: Unknown layout, no backbone weights,
            another size, or a stem of another channel count than 3 and
            the model's.
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
            raise CheckpointMismatchError(
                f'checkpoint {source} has no keys under the prefix '
                f'{prefix!r}')
    layout, full = _convert(state, source, allow_v1=_is_v1(backbone))
    weights = backbone_part(full)
    if not weights:
        raise CheckpointMismatchError(
            f'checkpoint {source} ({layout} layout) holds no ConvNeXt V2 '
            'backbone weights')
    check_arch(backbone, weights, source)
    check_block_type(backbone, weights, source)
    fit_stem(weights, stem_in_channels(backbone), source, stem_rule)
    logger.info(f'load ConvNeXt V2 backbone from {source}: {layout} layout, '
                f'{len(weights)} tensors')
    load_state_dict(backbone, weights, strict=False, logger=logger)


def check_decoder(neck: nn.Module, neck_state: Mapping[str, Tensor],
                  source: str) -> None:
    """Raise a clear error when a checkpoint's FCMAE decoder has another
    width, depth or patch size than the model's ``FCMAEDecoder``."""
    found = dict(
        width=neck_state['proj.weight'].shape[0]
        if 'proj.weight' in neck_state else None,
        depth=len({k.split('.')[1] for k in neck_state
                   if k.startswith('decoder.')}),
        outputs=neck_state['pred.weight'].shape[0]
        if 'pred.weight' in neck_state else None)
    want = dict(width=neck.embed_dims, depth=len(neck.decoder),
                outputs=neck.pred.out_channels)
    for what, value in found.items():
        if value is not None and value != want[what]:
            raise CheckpointMismatchError(
                f'checkpoint {source} holds an FCMAE decoder with {what} '
                f'{value}, but the model\'s decoder has {what} {want[what]} '
                f'(decoder {found} vs model {want})')


def load_fcmae_checkpoint(model: nn.Module, filename: Union[str, os.PathLike],
                          map_location: Optional[str] = 'cpu',
                          stem_rule: Any = 'mean') -> None:
    """Load an FCMAE checkpoint of any known layout into an ``FCMAE`` model.

    Official raw training files bring their decoder; released encoder-only
    files (and downstream checkpoints) do not, which is logged as a warning:
    the decoder then keeps its random initialisation. A 3-channel stem is
    adapted to the model's channels by ``stem_rule`` (see
    :func:`load_backbone_checkpoint`); the decoder's prediction layer,
    which predicts 3 channels, then starts from random init (logged).

    Raises:
        CheckpointMismatchError: Unknown layout, another encoder size,
            decoder shape or stem channel count.
    """
    source = os.fspath(filename)
    logger = MMLogger.get_current_instance()
    state = unwrap_state(read_checkpoint(source, map_location=map_location))
    layout, full = _convert(state, source, allow_v1=_is_v1(model.backbone))
    check_arch(model.backbone, backbone_part(full), source)
    check_block_type(model.backbone, backbone_part(full), source)
    if fit_stem(full, stem_in_channels(model.backbone), source, stem_rule,
                key='backbone.' + STEM_KEY):
        dropped = [k for k in full if k.startswith('neck.pred.')]
        for key in dropped:
            del full[key]
        if dropped:
            logger.warning(f'checkpoint {source}: its decoder predicts 3 '
                           'channels: the prediction layer (neck.pred.*) '
                           'starts from random init')
    neck_state = {k[len('neck.'):]: v for k, v in full.items()
                  if k.startswith('neck.')}
    if neck_state:
        check_decoder(model.neck, neck_state, source)
    else:
        logger.warning(f'checkpoint {source} ({layout} layout) has no FCMAE '
                       'decoder: the decoder (neck.*) starts from random init')
    full = type(full)((k, v) for k, v in full.items()
                      if k.startswith(('backbone.', 'neck.')))
    logger.info(f'load FCMAE weights from {source}: {layout} layout, '
                f'{len(full)} tensors')
    load_state_dict(model, full, strict=False, logger=logger)


__all__ = [
    'check_arch', 'check_block_type', 'check_decoder', 'load_backbone_checkpoint',
    'load_fcmae_checkpoint'
]
