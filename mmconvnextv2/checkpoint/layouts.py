"""Recognise the layout of a ConvNeXt V2 state dict and convert it to ours.

Our full-model layout is mmpretrain's: ``backbone.downsample_layers.{i}.{j}``,
``backbone.stages.{s}.{b}.{depthwise_conv,norm,pointwise_conv1,grn,
pointwise_conv2}``, output norms ``backbone.norm{i}``, the classifier
``head.fc`` and the FCMAE decoder ``neck.{proj,mask_token,decoder.{i},pred}``.
GRN ``gamma``/``beta`` are 1-D. The layouts read are listed in ``LAYOUTS``:
the official dense files, the raw MinkowskiEngine FCMAE training checkpoints,
timm, mmpretrain (= ours) and Hugging Face transformers.
"""
import logging
import math
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from mmengine.logging import print_log
from torch import Tensor

LAYOUTS: Tuple[str, ...] = ('official', 'official_fcmae_raw', 'timm',
                            'mmpretrain', 'huggingface')

# wrapper keys under which training scripts store the weights
_WRAPPER_KEYS = ('state_dict', 'model', 'module')

# placeholder for the final norm, whose index (number of stages - 1) is only
# known once every key has been seen
_FINAL_NORM = 'backbone.__final_norm__.'

# in-block module names -> ours, per layout; GRN parameters are renamed apart
_OURS_BLOCK = ('depthwise_conv', 'norm', 'pointwise_conv1', 'pointwise_conv2',
               'grn')
_OFFICIAL_BLOCK = {'dwconv': 'depthwise_conv', 'norm': 'norm',
                   'pwconv1': 'pointwise_conv1', 'pwconv2': 'pointwise_conv2',
                   'grn': 'grn'}
_RAW_BLOCK = {'dwconv': 'depthwise_conv', 'norm.ln': 'norm',
              'pwconv1.linear': 'pointwise_conv1',
              'pwconv2.linear': 'pointwise_conv2', 'grn': 'grn'}
_TIMM_BLOCK = {'conv_dw': 'depthwise_conv', 'norm': 'norm',
               'mlp.fc1': 'pointwise_conv1', 'mlp.fc2': 'pointwise_conv2',
               'mlp.grn': 'grn'}
_HF_BLOCK = {'dwconv': 'depthwise_conv', 'layernorm': 'norm',
             'pwconv1': 'pointwise_conv1', 'pwconv2': 'pointwise_conv2',
             'grn': 'grn'}
_GRN_PARAMS = {'gamma': 'gamma', 'beta': 'beta', 'weight': 'gamma',
               'bias': 'beta'}

Mapped = Optional[Tuple[str, Tensor]]


# ---------------------------------------------------------------- unwrapping
def unwrap_state(ckpt: Mapping) -> 'OrderedDict[str, Tensor]':
    """The tensors of a checkpoint: descend into ``state_dict``/``model``
    wrappers, drop non-tensor entries and a ``module.`` (DDP) prefix."""
    state = ckpt
    descended = True
    while descended:
        descended = False
        for key in _WRAPPER_KEYS:
            inner = state.get(key)
            if isinstance(inner, Mapping):
                state, descended = inner, True
                break
    tensors = OrderedDict(
        (k, v) for k, v in state.items() if isinstance(v, Tensor))
    if tensors and all(k.startswith('module.') for k in tensors):
        tensors = OrderedDict((k[len('module.'):], v) for k, v in tensors.items())
    return tensors


# ----------------------------------------------------------------- detection
def _any(keys: List[str], pattern: str) -> bool:
    regex = re.compile(pattern)
    return any(regex.match(k) for k in keys)


def detect_layout(state: Mapping[str, Tensor], allow_v1: bool = False) -> str:
    """Name the layout of a ConvNeXt V2 state dict (one of ``LAYOUTS``).

    Args:
        state: Parameter names to tensors, already unwrapped (see
            :func:`unwrap_state`).
        allow_v1: Accept ConvNeXt V1 weights (no GRN parameters), for a
            backbone built with ``block_type='v1'``.

    Raises:
        ValueError: No ConvNeXt V2 layout matches, or the weights are a
            ConvNeXt V1 (no GRN parameters) and ``allow_v1`` is False.
    """
    keys = list(state)
    if not keys:
        raise ValueError('the checkpoint holds no tensors')
    if _any(keys, r'convnextv2\.|embeddings\.patch_embeddings\.|'
            r'encoder\.stages\.\d+\.(layers|downsampling_layer)\.'):
        layout = 'huggingface'
    elif _any(keys, r'encoder\.(downsample_layers|stages)\.'):
        layout = 'official_fcmae_raw'
    elif _any(keys, r'stem\.\d+\.|stages\.\d+\.(blocks|downsample)\.'):
        layout = 'timm'
    elif _any(keys, r'(backbone\.)?stages\.\d+\.\d+\.(depthwise_conv|'
              r'pointwise_conv\d)\.') or _any(
                  keys, r'backbone\.(downsample_layers|stages|norm\d)'):
        layout = 'mmpretrain'
    elif _any(keys, r'stages\.\d+\.\d+\.(dwconv|pwconv\d|grn)\.'):
        layout = 'official'
    elif _any(keys, r'downsample_layers\.\d+\.'):
        layout = 'official' if 'norm.weight' in state else 'mmpretrain'
    else:
        shown = ', '.join(keys[:5]) + (', ...' if len(keys) > 5 else '')
        raise ValueError(
            'not a ConvNeXt V2 checkpoint: its keys match none of the known '
            f'layouts {list(LAYOUTS)} (first keys: {shown}); if the backbone '
            "sits under a prefix, pass it (init_cfg=dict(..., prefix='...'))")
    if not allow_v1 and not any('grn' in k for k in keys):
        raise ValueError(
            f'the checkpoint looks like a ConvNeXt in the {layout!r} layout but '
            'holds no GRN parameters: it is a ConvNeXt V1, not a ConvNeXt V2 '
            "(load it into a backbone built with block_type='v1')")
    return layout


# ------------------------------------------------------- per-layout renaming
def _block(rest: str, table: Mapping[str, str]) -> Optional[str]:
    """``<module>.<param>`` inside a block -> our name, or None if unknown."""
    if rest in ('gamma', 'layer_scale_parameter'):  # V1 LayerScale
        return 'gamma'
    module, _, param = rest.rpartition('.')
    ours = table.get(module)
    if ours is None:
        return None
    if ours == 'grn':
        param = _GRN_PARAMS.get(param)
        if param is None:
            return None
    return f'{ours}.{param}'


def _dense_block(prefix: str, rest: str, value: Tensor,
                 table: Mapping[str, str]) -> Mapped:
    name = _block(rest, table)
    return None if name is None else (prefix + name, value)


def _official(key: str, value: Tensor) -> Mapped:
    if key.startswith('downsample_layers.'):
        return 'backbone.' + key, value
    m = re.match(r'stages\.(\d+)\.(\d+)\.(.+)$', key)
    if m:
        return _dense_block(f'backbone.stages.{m[1]}.{m[2]}.', m[3], value,
                            _OFFICIAL_BLOCK)
    if key.startswith('norm.'):
        return _FINAL_NORM + key[len('norm.'):], value
    if key.startswith('head.'):
        return 'head.fc.' + key[len('head.'):], value
    return None


def _minkowski_kernel(kernel: Tensor, depthwise: bool) -> Tensor:
    """Dense conv weight from a MinkowskiEngine kernel.

    Minkowski stores one matrix per kernel offset, ``(k*k, C)`` (depthwise) or
    ``(k*k, C_in, C_out)``, and its offsets run with the first spatial axis
    fastest: offset ``x * k + y`` holds the dense weight at row ``y``,
    column ``x`` (the transpose the official ``remap_checkpoint_keys`` does).
    """
    k = math.isqrt(kernel.shape[0])
    if k * k != kernel.shape[0]:
        raise ValueError(f'Minkowski kernel of shape {tuple(kernel.shape)} is '
                         'not square')
    if depthwise:  # (x, y, C) -> (C, 1, y, x)
        return kernel.reshape(k, k, -1).permute(2, 1, 0).unsqueeze(1).contiguous()
    # (x, y, C_in, C_out) -> (C_out, C_in, y, x)
    return kernel.reshape(k, k, *kernel.shape[1:]).permute(3, 2, 1, 0).contiguous()


def _fcmae_raw(key: str, value: Tensor) -> Mapped:
    if key.startswith('encoder.'):
        key = key[len('encoder.'):]
        m = re.match(r'downsample_layers\.(\d+)\.(\d+)\.(.+)$', key)
        if m:
            rest = m[3]
            if rest.startswith('ln.'):
                rest = rest[len('ln.'):]
            elif rest == 'kernel':
                rest, value = 'weight', _minkowski_kernel(value, depthwise=False)
            elif rest == 'bias':
                value = value.reshape(-1)
            return f'backbone.downsample_layers.{m[1]}.{m[2]}.{rest}', value
        m = re.match(r'stages\.(\d+)\.(\d+)\.(.+)$', key)
        if not m:
            return None
        prefix, rest = f'backbone.stages.{m[1]}.{m[2]}.', m[3]
        if rest == 'dwconv.kernel':
            return (prefix + 'depthwise_conv.weight',
                    _minkowski_kernel(value, depthwise=True))
        if rest == 'dwconv.bias':
            return prefix + 'depthwise_conv.bias', value.reshape(-1)
        return _dense_block(prefix, rest, value, _RAW_BLOCK)
    # the dense decoder of the FCMAE model
    if key == 'mask_token' or key.startswith(('proj.', 'pred.')):
        return 'neck.' + key, value
    m = re.match(r'decoder\.(\d+)\.(.+)$', key)
    if m:
        return _dense_block(f'neck.decoder.{m[1]}.', m[2], value,
                            _OFFICIAL_BLOCK)
    return None


def _timm(key: str, value: Tensor) -> Mapped:
    m = re.match(r'stem\.(\d+)\.(.+)$', key)
    if m:
        return f'backbone.downsample_layers.0.{m[1]}.{m[2]}', value
    m = re.match(r'stages\.(\d+)\.downsample\.(.+)$', key)
    if m:
        return f'backbone.downsample_layers.{m[1]}.{m[2]}', value
    m = re.match(r'stages\.(\d+)\.blocks\.(\d+)\.(.+)$', key)
    if m:
        return _dense_block(f'backbone.stages.{m[1]}.{m[2]}.', m[3], value,
                            _TIMM_BLOCK)
    if key.startswith('head.norm.'):
        return _FINAL_NORM + key[len('head.norm.'):], value
    if key.startswith('head.fc.'):
        return key, value
    return None


def _mmpretrain(key: str, value: Tensor) -> Mapped:
    if key.startswith(('backbone.', 'neck.', 'head.')):
        return key, value
    if re.match(r'(downsample_layers|stages|norm\d+)\.', key):
        return 'backbone.' + key, value
    # anything else of an mmpretrain model (e.g. data_preprocessor buffers)
    return key, value


def _huggingface(key: str, value: Tensor) -> Mapped:
    if key.startswith('convnextv2.'):
        key = key[len('convnextv2.'):]
    if key.startswith('embeddings.patch_embeddings.'):
        return ('backbone.downsample_layers.0.0.'
                + key[len('embeddings.patch_embeddings.'):], value)
    if key.startswith('embeddings.layernorm.'):
        return ('backbone.downsample_layers.0.1.'
                + key[len('embeddings.layernorm.'):], value)
    m = re.match(r'encoder\.stages\.(\d+)\.downsampling_layer\.(.+)$', key)
    if m:
        return f'backbone.downsample_layers.{m[1]}.{m[2]}', value
    m = re.match(r'encoder\.stages\.(\d+)\.layers\.(\d+)\.(.+)$', key)
    if m:
        return _dense_block(f'backbone.stages.{m[1]}.{m[2]}.', m[3], value,
                            _HF_BLOCK)
    if key.startswith('layernorm.'):  # the pooler's norm
        return _FINAL_NORM + key[len('layernorm.'):], value
    m = re.match(r'hidden_states_norms\.stage(\d+)\.(.+)$', key)
    if m:  # ConvNextV2Backbone: stage1 is the output of our stage 0
        return f'backbone.norm{int(m[1]) - 1}.{m[2]}', value
    if key.startswith('classifier.'):
        return 'head.fc.' + key[len('classifier.'):], value
    return None


_CONVERTERS: Dict[str, Callable[[str, Tensor], Mapped]] = {
    'official': _official,
    'official_fcmae_raw': _fcmae_raw,
    'timm': _timm,
    'mmpretrain': _mmpretrain,
    'huggingface': _huggingface,
}


def _fix_shape(key: str, value: Tensor) -> Tensor:
    """GRN parameters 1-D; 1x1-conv pointwise weights as Linear weights."""
    if re.search(r'\.grn\.(gamma|beta)$', key):
        return value.reshape(-1)
    if re.search(r'\.pointwise_conv\d\.weight$', key) and value.dim() == 4:
        return value.flatten(1)
    return value


def _num_stages(keys: List[str]) -> int:
    indices = [int(m[1]) for k in keys
               for m in [re.match(r'backbone\.(?:downsample_layers|stages)\.'
                                  r'(\d+)\.', k)] if m]
    return max(indices) + 1 if indices else 4


def convert_state(state: Mapping[str, Tensor],
                  layout: str) -> 'OrderedDict[str, Tensor]':
    """Convert an unwrapped state dict of a known ``layout`` to ours.

    Keys that belong to no ConvNeXt V2 part of that layout are dropped with
    a warning.
    """
    if layout not in _CONVERTERS:
        raise ValueError(f'unknown layout {layout!r}; known: {list(LAYOUTS)}')
    convert = _CONVERTERS[layout]
    out: 'OrderedDict[str, Tensor]' = OrderedDict()
    dropped = []
    for key, value in state.items():
        mapped = convert(key, value)
        if mapped is None:
            dropped.append(key)
            continue
        new_key, new_value = mapped
        out[new_key] = _fix_shape(new_key, new_value)
    if dropped:
        shown = ', '.join(dropped[:10]) + (', ...' if len(dropped) > 10 else '')
        print_log(f'ignored {len(dropped)} key(s) of the {layout} checkpoint '
                  f'that are not part of a ConvNeXt V2 model: {shown}',
                  logger='current', level=logging.WARNING)
    final = f'backbone.norm{_num_stages(list(out)) - 1}.'
    return OrderedDict(
        (final + k[len(_FINAL_NORM):] if k.startswith(_FINAL_NORM) else k, v)
        for k, v in out.items())


def convert_checkpoint(ckpt: Mapping) -> 'OrderedDict[str, Tensor]':
    """Any known ConvNeXt V2 checkpoint -> our full-model state dict.

    Args:
        ckpt: A checkpoint as read (wrappers such as ``state_dict``/``model``
            are unwrapped) or a bare state dict.

    Returns:
        ``backbone.*`` (final norm as ``backbone.norm{last}``), ``head.fc.*``
        and, for raw FCMAE checkpoints, the decoder as ``neck.*``.
    """
    state = unwrap_state(ckpt)
    return convert_state(state, detect_layout(state))


def backbone_part(state: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """The ``backbone.`` entries of a full-model state dict, prefix stripped."""
    return OrderedDict((k[len('backbone.'):], v) for k, v in state.items()
                       if k.startswith('backbone.'))


def infer_arch(backbone_state: Mapping[str, Tensor]) -> Tuple[List[int], List[int]]:
    """Depths and channels of the ConvNeXt V2 held by a backbone state dict.

    Args:
        backbone_state: Our backbone keys, without the ``backbone.`` prefix.

    Returns:
        ``(depths, channels)``, one entry per stage.

    Raises:
        ValueError: The keys do not tell the width of some stage.
    """
    depth: Dict[int, int] = {}
    width: Dict[int, int] = {}
    stages = set()
    for key, value in backbone_state.items():
        m = re.match(r'downsample_layers\.(\d+)\.(\d+)\.weight$', key)
        if m:
            stage = int(m[1])
            stages.add(stage)
            if value.dim() == 4:  # the conv (index 0 in the stem, else 1)
                width[stage] = int(value.shape[0])
            continue
        m = re.match(r'stages\.(\d+)\.(\d+)\.', key)
        if m:
            stage, block = int(m[1]), int(m[2])
            stages.add(stage)
            depth[stage] = max(depth.get(stage, 0), block + 1)
            if key.endswith('depthwise_conv.weight'):
                width.setdefault(stage, int(value.shape[0]))
    if not stages:
        raise ValueError('no ConvNeXt V2 backbone weights (downsample_layers.* '
                         'or stages.*) found')
    num_stages = max(stages) + 1
    missing = [s for s in range(num_stages) if s not in width]
    if missing:
        raise ValueError(f'cannot tell the width of stage(s) {missing} from the '
                         'checkpoint: their convolution weights are missing')
    return ([depth.get(s, 0) for s in range(num_stages)],
            [width[s] for s in range(num_stages)])


__all__ = [
    'LAYOUTS', 'unwrap_state', 'detect_layout', 'convert_state',
    'convert_checkpoint', 'backbone_part', 'infer_arch'
]
