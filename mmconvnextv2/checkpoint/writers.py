"""Write our ConvNeXt V2 weights in the layouts other code reads.

The inverse of :mod:`mmconvnextv2.checkpoint.layouts`: from our full-model
state dict (``backbone.*``, ``head.fc.*``, as any of our training runs saves
it, or as :func:`~mmconvnextv2.checkpoint.layouts.convert_checkpoint` returns
it) to

- ``'timm'``: a state dict for ``timm.create_model('convnextv2_<arch>')``
  (1x1-conv MLP for atto..nano, as timm builds those sizes);
- ``'huggingface'``: a ``save_pretrained``-style folder (``config.json`` +
  ``model.safetensors``) for ``ConvNextV2Model.from_pretrained`` or, with a
  classifier, ``ConvNextV2ForImageClassification.from_pretrained``;
- ``'official'``: the official repository's dense file
  (``{'model': state}``, GRN shaped ``(1, 1, 1, C)``).

The block names come from the readers' tables, inverted, so reader and writer
cannot drift apart. What a layout cannot hold (a detector's neck and heads, a
segmentor's heads, the FCMAE decoder, per-stage output norms, ConvNeXt V1
LayerScale) is refused with one line naming it, unless ``backbone_only`` asks
for the ConvNeXt V2 network alone.
"""
import json
import logging
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch
from mmengine.logging import print_log
from torch import Tensor

from ..utils.fileio import write_via_temp
from .layouts import (_HF_BLOCK, _OFFICIAL_BLOCK, _TIMM_BLOCK, backbone_part,
                      infer_arch)

#: The layouts :func:`export_state` and :func:`write_checkpoint` write.
EXPORT_LAYOUTS: Tuple[str, ...] = ('timm', 'huggingface', 'official')

#: timm builds these sizes with a 1x1-conv MLP (``conv_mlp=True``).
TIMM_CONV_MLP_ARCHS = ('atto', 'femto', 'pico', 'nano')

# ours -> foreign, per layout: the readers' tables inverted
_TO_OFFICIAL = {ours: theirs for theirs, ours in _OFFICIAL_BLOCK.items()}
_TO_TIMM = {ours: theirs for theirs, ours in _TIMM_BLOCK.items()}
_TO_HF = {ours: theirs for theirs, ours in _HF_BLOCK.items()}
# GRN parameter names: the official file keeps gamma/beta, timm and HF use
# weight/bias (the readers accept both)
_GRN_WEIGHT_BIAS = {'gamma': 'weight', 'beta': 'bias'}

# entries of a training checkpoint that carry no network weights
_IGNORED_PREFIXES = ('data_preprocessor.',)

State = 'OrderedDict[str, Tensor]'


class ExportError(ValueError):
    """The weights cannot be written in the requested layout."""


# ------------------------------------------------------------ what is held
def _group(key: str) -> str:
    """A short name for the part of a model ``key`` belongs to."""
    m = re.match(r'backbone\.(norm\d+)\.', key)
    if m:
        return f'backbone.{m[1]}'
    m = re.match(r'(backbone\.stages\.\d+\.\d+\.)(.+)\.\w+$', key)
    if m:
        return f'backbone.stages.*.*.{m[2]}'
    m = re.match(r'backbone\.stages\.\d+\.\d+\.(\w+)$', key)
    if m:
        return f'backbone.stages.*.*.{m[1]}'
    return key.split('.')[0] + '.*'


def split_model_state(state: Mapping[str, Tensor]) -> Tuple[State, State, List[str]]:
    """Split our full-model state into what every layout can hold and the rest.

    Args:
        state: Our full-model layout (``backbone.*``, ``head.fc.*``, ...).

    Returns:
        ``(backbone, head, extra)``: the ConvNeXt V2 network without the
        ``backbone.`` prefix (stem, downsampling layers, blocks and the final
        norm ``norm{last}``), the classifier ``fc`` (``weight``/``bias``) and
        the keys no ConvNeXt V2 layout holds.
    """
    backbone = backbone_part(state)
    if not backbone:
        raise ExportError('no ConvNeXt V2 backbone weights (backbone.*) in the '
                          'checkpoint')
    depths, _ = infer_arch(backbone)
    last = len(depths) - 1
    extra = []
    kept: State = OrderedDict()
    for key, value in backbone.items():
        m = re.match(r'norm(\d+)\.', key)
        if m and int(m[1]) != last:
            extra.append('backbone.' + key)
            continue
        m = re.match(r'stages\.\d+\.\d+\.(.+)\.\w+$', key)
        if m and m[1] not in _TO_OFFICIAL:
            extra.append('backbone.' + key)
            continue
        if not m and re.match(r'stages\.\d+\.\d+\.\w+$', key):
            extra.append('backbone.' + key)  # e.g. V1 LayerScale ``gamma``
            continue
        kept[key] = value
    head: State = OrderedDict()
    for key, value in state.items():
        if key.startswith('backbone.') or key.startswith(_IGNORED_PREFIXES):
            continue
        if key in ('head.fc.weight', 'head.fc.bias'):
            head[key[len('head.fc.'):]] = value
        else:
            extra.append(key)
    if not any('.grn.' in k for k in kept):
        raise ExportError('the backbone has no GRN parameters: it is a ConvNeXt '
                          'V1, which no ConvNeXt V2 layout can hold')
    return kept, head, extra


def _refuse_extra(extra: List[str], layout: str) -> None:
    if not extra:
        return
    groups = list(OrderedDict.fromkeys(_group(k) for k in extra))
    shown = ', '.join(groups[:8]) + (', ...' if len(groups) > 8 else '')
    raise ExportError(
        f'the {layout} layout cannot hold {shown} of this checkpoint (a '
        "detector's or segmentor's neck and heads, an FCMAE decoder, per-stage "
        'output norms or ConvNeXt V1 LayerScale); write the ConvNeXt V2 '
        'network alone with backbone_only=True (--backbone-only)')


def _block_key(key: str) -> Optional[Tuple[str, str, str]]:
    """``stages.s.b.<module>.<param>`` -> (``s.b``, module, param)."""
    m = re.match(r'stages\.(\d+\.\d+)\.(.+)\.(\w+)$', key)
    return (m[1], m[2], m[3]) if m else None


def _final_norm(backbone: Mapping[str, Tensor], channels: List[int],
                layout: str, required: bool) -> State:
    """The final norm's ``weight``/``bias``; when absent (an FCMAE encoder)
    and the layout's model has one, a fresh LayerNorm's (ones, zeros)."""
    last = len(channels) - 1
    norm = OrderedDict((k.split('.', 1)[1], v) for k, v in backbone.items()
                       if k.startswith(f'norm{last}.'))
    if norm or not required:
        return norm
    print_log(f'the checkpoint has no final norm (an FCMAE encoder has none); '
              f'the {layout} file gets a fresh one (weight 1, bias 0): features '
              'before it are the checkpoint\'s, fine-tune before use',
              logger='current', level=logging.WARNING)
    ref = backbone[f'downsample_layers.{last}.1.weight' if last else
                   'downsample_layers.0.0.weight']
    return OrderedDict(weight=ref.new_ones(channels[last]),
                       bias=ref.new_zeros(channels[last]))


# -------------------------------------------------------------- the layouts
def to_official(backbone: Mapping[str, Tensor],
                head: Mapping[str, Tensor]) -> State:
    """Ours (bare backbone keys, ``fc`` head) -> the official dense layout."""
    depths, channels = infer_arch(backbone)
    if len(depths) != 4:
        raise ExportError(f'the official layout holds 4 stages, the checkpoint '
                          f'has {len(depths)}')
    out: State = OrderedDict()
    for key, value in backbone.items():
        block = _block_key(key)
        if key.startswith('downsample_layers.'):
            out[key] = value
        elif block:
            sb, module, param = block
            if module == 'grn':
                value = value.reshape(1, 1, 1, -1)
            out[f'stages.{sb}.{_TO_OFFICIAL[module]}.{param}'] = value
    for param, value in _final_norm(backbone, channels, 'official',
                                    required=False).items():
        out[f'norm.{param}'] = value
    for param, value in head.items():
        out[f'head.{param}'] = value
    return out


def to_timm(backbone: Mapping[str, Tensor], head: Mapping[str, Tensor],
            conv_mlp: bool) -> State:
    """Ours -> a timm ``convnextv2_*`` state dict.

    Args:
        backbone: Our backbone keys without the ``backbone.`` prefix.
        head: The classifier's ``weight``/``bias`` (may be empty).
        conv_mlp: Write the MLP as 1x1 convolutions, as timm builds atto,
            femto, pico and nano (``conv_mlp=True``).
    """
    _, channels = infer_arch(backbone)
    out: State = OrderedDict()
    for key, value in backbone.items():
        m = re.match(r'downsample_layers\.(\d+)\.(\d+)\.(\w+)$', key)
        block = _block_key(key)
        if m and m[1] == '0':
            out[f'stem.{m[2]}.{m[3]}'] = value
        elif m:
            out[f'stages.{m[1]}.downsample.{m[2]}.{m[3]}'] = value
        elif block:
            sb, module, param = block
            s, b = sb.split('.')
            if module == 'grn':
                param = _GRN_WEIGHT_BIAS[param]
            elif conv_mlp and module.startswith('pointwise_conv') \
                    and param == 'weight':
                value = value[:, :, None, None]
            out[f'stages.{s}.blocks.{b}.{_TO_TIMM[module]}.{param}'] = value
    for param, value in _final_norm(backbone, channels, 'timm',
                                    required=True).items():
        out[f'head.norm.{param}'] = value
    for param, value in head.items():
        out[f'head.fc.{param}'] = value
    return out


def to_huggingface(backbone: Mapping[str, Tensor],
                   head: Mapping[str, Tensor]) -> State:
    """Ours -> Hugging Face: ``ConvNextV2ForImageClassification`` keys
    (``convnextv2.*``, ``classifier.*``) with a head, else ``ConvNextV2Model``
    keys (no prefix)."""
    _, channels = infer_arch(backbone)
    prefix = 'convnextv2.' if head else ''
    out: State = OrderedDict()
    for key, value in backbone.items():
        m = re.match(r'downsample_layers\.(\d+)\.(\d+)\.(\w+)$', key)
        block = _block_key(key)
        if m and m[1] == '0':
            name = 'patch_embeddings' if m[2] == '0' else 'layernorm'
            out[f'{prefix}embeddings.{name}.{m[3]}'] = value
        elif m:
            out[f'{prefix}encoder.stages.{m[1]}.downsampling_layer.{m[2]}.'
                f'{m[3]}'] = value
        elif block:
            sb, module, param = block
            s, b = sb.split('.')
            if module == 'grn':
                param = _GRN_WEIGHT_BIAS[param]
                value = value.reshape(1, 1, 1, -1)
            out[f'{prefix}encoder.stages.{s}.layers.{b}.{_TO_HF[module]}.'
                f'{param}'] = value
    for param, value in _final_norm(backbone, channels, 'huggingface',
                                    required=True).items():
        out[f'{prefix}layernorm.{param}'] = value
    for param, value in head.items():
        out[f'classifier.{param}'] = value
    return out


def huggingface_config(depths: List[int], channels: List[int],
                       num_labels: Optional[int] = None,
                       image_size: int = 224) -> Dict:
    """The ``config.json`` of a ``ConvNextV2Config`` for these sizes.

    Written by hand (transformers is not needed to export); ``layer_norm_eps``
    is 1e-6, the eps of every norm of ours (transformers' default is 1e-12).
    """
    config = dict(
        architectures=['ConvNextV2ForImageClassification' if num_labels
                       else 'ConvNextV2Model'],
        model_type='convnextv2',
        depths=list(depths),
        hidden_sizes=list(channels),
        num_stages=len(depths),
        num_channels=3,
        patch_size=4,
        hidden_act='gelu',
        layer_norm_eps=1e-6,
        initializer_range=0.02,
        drop_path_rate=0.0,
        image_size=image_size,
        torch_dtype='float32',
    )
    if num_labels:
        config['id2label'] = {str(i): f'LABEL_{i}' for i in range(num_labels)}
        config['label2id'] = {f'LABEL_{i}': i for i in range(num_labels)}
    return config


def export_state(state: Mapping[str, Tensor], layout: str,
                 backbone_only: bool = False,
                 conv_mlp: Optional[bool] = None) -> State:
    """Our full-model state dict -> ``layout`` (one of ``EXPORT_LAYOUTS``).

    Args:
        state: Our full-model layout, e.g. ``convert_checkpoint(...)`` or the
            ``state_dict`` of one of our training checkpoints.
        layout: ``'timm'``, ``'huggingface'`` or ``'official'``.
        backbone_only: Write the ConvNeXt V2 network alone: drop a classifier
            head, an FCMAE decoder, a detector's or segmentor's neck and
            heads, and the per-stage output norms but the last.
        conv_mlp: timm only: 1x1-conv MLP weights; ``None`` decides by size
            (atto..nano, as timm builds them).

    Raises:
        ExportError: The state holds parts the layout cannot hold (and
            ``backbone_only`` is off), or is no ConvNeXt V2.
    """
    if layout not in EXPORT_LAYOUTS:
        raise ExportError(f'unknown layout {layout!r}; known: '
                          f'{list(EXPORT_LAYOUTS)}')
    backbone, head, extra = split_model_state(state)
    if backbone_only:
        head = OrderedDict()
    else:
        _refuse_extra(extra, layout)
    if layout == 'official':
        return to_official(backbone, head)
    if layout == 'huggingface':
        return to_huggingface(backbone, head)
    if conv_mlp is None:
        conv_mlp = arch_name(backbone) in TIMM_CONV_MLP_ARCHS
    return to_timm(backbone, head, conv_mlp)


def arch_name(backbone: Mapping[str, Tensor]) -> Optional[str]:
    """The ConvNeXt V2 size (``'atto'`` ... ``'huge'``) of bare backbone
    keys, or None for a custom one."""
    from mmconvnextv2.models import ConvNeXtV2
    depths, channels = infer_arch(backbone)
    for name, setting in ConvNeXtV2.arch_settings.items():
        if (list(setting['depths']) == depths
                and list(setting['channels']) == channels):
            return name
    return None


# ------------------------------------------------------------------ writing
def _contiguous(state: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Own, contiguous CPU copies (safetensors refuses shared storage)."""
    return {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}


def write_huggingface(state: Mapping[str, Tensor], folder: str,
                      config: Mapping) -> str:
    """Write Hugging Face weights (:func:`to_huggingface` keys) and their
    ``config`` (:func:`huggingface_config`) as a ``save_pretrained`` folder:
    ``config.json`` + ``model.safetensors``."""
    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    tensors = _contiguous(state)
    write_via_temp(osp.join(folder, 'model.safetensors'),
            lambda tmp: save_file(tensors, tmp, metadata={'format': 'pt'}))

    def dump_config(tmp: str) -> None:
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(dict(config), f, indent=2)
            f.write('\n')

    write_via_temp(osp.join(folder, 'config.json'), dump_config)
    return folder


def write_checkpoint(state: Mapping[str, Tensor], dst: str, layout: str,
                     backbone_only: bool = False,
                     conv_mlp: Optional[bool] = None,
                     image_size: int = 224) -> str:
    """Write our full-model ``state`` to ``dst`` in ``layout``.

    timm: ``torch.save`` of the bare state dict (``.pth``; a ``.safetensors``
    name writes safetensors). Hugging Face: ``dst`` is a folder. Official:
    ``{'model': state}``, as the official files.

    Returns:
        ``dst``.
    """
    exported = export_state(state, layout, backbone_only, conv_mlp)
    if layout == 'huggingface':
        depths, channels = infer_arch(backbone_part(state))
        head = exported.get('classifier.weight')
        config = huggingface_config(
            depths, channels, None if head is None else int(head.shape[0]),
            image_size)
        return write_huggingface(exported, dst, config)
    if layout == 'timm' and dst.endswith('.safetensors'):
        from safetensors.torch import save_file
        tensors = _contiguous(exported)
        write_via_temp(dst, lambda tmp: save_file(tensors, tmp,
                                           metadata={'format': 'pt'}))
        return dst
    obj = exported if layout == 'timm' else {'model': exported}
    write_via_temp(dst, lambda tmp: torch.save(obj, tmp))
    return dst


def export_checkpoint(src: str, dst: str, layout: str,
                      backbone_only: bool = False,
                      conv_mlp: Optional[bool] = None,
                      image_size: int = 224) -> str:
    """Read a checkpoint of ours (or of any layout the readers know) and
    write it to ``dst`` in ``layout``; returns the source layout's name."""
    from .io import read_checkpoint
    from .layouts import convert_state, detect_layout, unwrap_state
    raw = unwrap_state(read_checkpoint(src))
    source_layout = detect_layout(raw)
    state = convert_state(raw, source_layout)
    write_checkpoint(state, dst, layout, backbone_only, conv_mlp, image_size)
    return source_layout


__all__ = [
    'EXPORT_LAYOUTS', 'TIMM_CONV_MLP_ARCHS', 'ExportError',
    'split_model_state', 'to_official', 'to_timm', 'to_huggingface',
    'huggingface_config', 'export_state', 'arch_name', 'write_huggingface',
    'write_checkpoint', 'export_checkpoint'
]
