"""Starting a stem of C input channels from 3-channel (RGB) weights.

Every released ConvNeXt V2 checkpoint (official, timm, Hugging Face,
mmpretrain) has a stem convolution ``downsample_layers.0.0.weight`` of shape
``(C0, 3, P, P)`` over RGB input. A model built with ``in_channels=C``
(``ConvNeXtV2(in_channels=C)``) gets that kernel rewritten by a rule, chosen
with the ``stem_rule`` key of the ``Pretrained`` init_cfg:

* ``'mean'`` (default): every input channel gets the mean of the three RGB
  kernels, scaled by 3/C, so that a flat image gives the stem the response
  of a flat RGB image. For C = 1 it is the sum of the RGB kernels, timm's
  rule for one channel;
* ``'timm'``: timm's ``adapt_input_conv``, as ``timm.create_model(...,
  in_chans=C)`` applies it: the sum of the RGB kernels for C = 1, else the
  RGB kernels repeated over the channels (R, G, B, R, ...) and scaled by
  3/C;
* ``dict(type='rgb', bands=[r, g, b])``: the input channels ``r``, ``g``
  and ``b`` keep the red, green and blue kernels as they are; every other
  channel gets the mean of the three (unscaled).

The rule, the two channel counts and the file are logged. Weights of a
C-channel stem load into a C-channel model as they are; weights of C'
channels (C' not 3) are refused for a model of C != C' channels, naming both
counts: there is no rule from bands of unknown meaning.
"""
import math
from typing import Any, Mapping, MutableMapping, Optional, Tuple

from mmengine.logging import MMLogger
from torch import Tensor, nn

from .io import CheckpointMismatchError

__all__ = ['STEM_KEY', 'STEM_RULES', 'parse_stem_rule', 'adapt_stem_weight',
           'stem_in_channels', 'fit_stem']

#: The stem convolution's weight in our backbone layout (bare keys).
STEM_KEY = 'downsample_layers.0.0.weight'
#: The rule names ``stem_rule`` takes (``'rgb'`` as a dict with ``bands``).
STEM_RULES = ('mean', 'timm', 'rgb')

Rule = Tuple[str, Optional[Tuple[int, int, int]]]


def parse_stem_rule(rule: Any) -> Rule:
    """``(name, bands)`` of a ``stem_rule`` value (see the module doc).

    Raises:
        ValueError: Not one of :data:`STEM_RULES`, or an ``'rgb'`` rule
            without three distinct band indices.
    """
    if rule is None:
        return 'mean', None
    if isinstance(rule, str) and rule in ('mean', 'timm'):
        return rule, None
    if isinstance(rule, Mapping) and rule.get('type') == 'rgb':
        bands = rule.get('bands')
        if not isinstance(bands, (list, tuple)) or len(bands) != 3 or \
                len(set(bands)) != 3 or not all(
                    isinstance(b, int) and b >= 0 for b in bands):
            raise ValueError("stem_rule dict(type='rgb', bands=[r, g, b]) "
                             'needs three distinct band indices, got '
                             f'{bands!r}')
        return 'rgb', tuple(bands)
    raise ValueError(f"stem_rule must be 'mean', 'timm' or dict(type='rgb', "
                     f'bands=[r, g, b]), got {rule!r}')


def _describe(name: str, bands: Optional[Tuple[int, ...]],
              channels: int) -> str:
    if name == 'mean':
        return (f"rule 'mean' (the RGB kernels' mean on every channel, "
                f'scaled by 3/{channels})')
    if name == 'timm':
        return ("rule 'timm' (timm's adapt_input_conv: " + (
            'the sum of the RGB kernels)' if channels == 1 else
            f'the RGB kernels repeated, scaled by 3/{channels})'))
    return (f"rule 'rgb' (the RGB kernels on channels {list(bands)}, their "
            'mean on the others)')


def adapt_stem_weight(weight: Tensor, channels: int,
                      rule: Any = 'mean') -> Tensor:
    """The ``(C0, 3, P, P)`` RGB stem ``weight`` rewritten for ``channels``
    input channels by ``rule`` (see the module doc); same dtype.

    Raises:
        ValueError: ``weight`` is not a 3-channel kernel, the rule is
            unknown, or its bands do not fit ``channels``.
    """
    if weight.dim() != 4 or weight.shape[1] != 3:
        raise ValueError('a stem kernel of 3 input channels is needed, got '
                         f'shape {tuple(weight.shape)}')
    name, bands = parse_stem_rule(rule)
    # half-precision kernels are averaged in float32, as timm does
    rgb = weight.float() if weight.element_size() < 4 else weight
    mean = rgb.mean(dim=1, keepdim=True)
    if name == 'mean':
        out = mean.repeat(1, channels, 1, 1) * (3 / channels)
    elif name == 'timm':
        out = rgb.sum(dim=1, keepdim=True) if channels == 1 else \
            rgb.repeat(1, math.ceil(channels / 3), 1, 1)[:, :channels] * (
                3 / channels)
    else:
        if max(bands) >= channels:
            raise ValueError(f"stem_rule 'rgb' bands {list(bands)} do not "
                             f'fit a model of {channels} channel(s)')
        out = mean.repeat(1, channels, 1, 1)
        for colour, band in enumerate(bands):
            out[:, band] = rgb[:, colour]
    return out.to(weight.dtype).contiguous()


def stem_in_channels(backbone: nn.Module) -> int:
    """The image channels a ConvNeXt V2 backbone takes (its stem's)."""
    return int(backbone.downsample_layers[0][0].in_channels)


def fit_stem(state: MutableMapping[str, Tensor], channels: int, source: str,
             rule: Any = 'mean', key: str = STEM_KEY) -> bool:
    """Make the stem weight ``state[key]`` fit a model of ``channels``
    image channels, in place; return whether it was adapted (logged).

    Raises:
        CheckpointMismatchError: The checkpoint's stem has neither
            ``channels`` nor 3 input channels, or the rule does not fit.
    """
    parse_stem_rule(rule)  # a wrong rule fails also when it is not needed
    weight = state.get(key)
    if weight is None or weight.dim() != 4 or weight.shape[1] == channels:
        return False
    found = int(weight.shape[1])
    if found != 3:
        raise CheckpointMismatchError(
            f'checkpoint {source} holds a stem of {found} input channels, '
            f'but the model takes {channels}: only 3-channel (RGB) weights '
            'are adapted to another channel count')
    try:
        state[key] = adapt_stem_weight(weight, channels, rule)
    except ValueError as err:
        raise CheckpointMismatchError(f'checkpoint {source}: {err}') from None
    name, bands = parse_stem_rule(rule)
    MMLogger.get_current_instance().info(
        f'checkpoint {source}: its 3-channel stem adapted to the model\'s '
        f'{channels} channel(s) by {_describe(name, bands, channels)}')
    return True

