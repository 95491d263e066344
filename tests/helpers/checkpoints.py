"""Helpers for the checkpoint tests: random weights and, independently of the
package under test, exporters from our backbone layout to the foreign ones.

Every exporter is the inverse of one layout's mapping written out by hand, so
that a test "foreign file -> our loader -> export back == foreign file" checks
the loader against a second statement of the layout.
"""
import re
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch

from mmconvnextv2.models import ConvNeXtV2

TINY = dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])
ATTO = ConvNeXtV2.arch_settings['atto']
State = Dict[str, torch.Tensor]

_OFFICIAL_BLOCK = {'depthwise_conv': 'dwconv', 'norm': 'norm',
                   'pointwise_conv1': 'pwconv1', 'pointwise_conv2': 'pwconv2'}
_TIMM_BLOCK = {'depthwise_conv': 'conv_dw', 'norm': 'norm',
               'pointwise_conv1': 'mlp.fc1', 'pointwise_conv2': 'mlp.fc2'}
_HF_BLOCK = {'depthwise_conv': 'dwconv', 'norm': 'layernorm',
             'pointwise_conv1': 'pwconv1', 'pointwise_conv2': 'pwconv2'}


def randomize_(tensors, seed: int = 0) -> None:
    """Overwrite tensors in place with random values of a sane scale: norm
    weights near 1, everything else (GRN included) clearly non-zero."""
    gen = torch.Generator().manual_seed(seed)
    for name, t in tensors:
        noise = torch.randn(t.shape, generator=gen, dtype=torch.float64)
        if re.search(r'(norm\d*|layernorm|ln)\.weight$|\.(0|1)\.weight$', name) \
                and t.dim() == 1:
            noise = 1 + 0.1 * noise
        elif 'grn' in name:
            noise = 0.5 * noise
        else:
            noise = 0.1 * noise
        with torch.no_grad():
            t.copy_(noise.to(t.dtype))


def random_backbone_state(arch: dict, seed: int = 0) -> State:
    """Our backbone layout (bare keys), all values random, with ``norm{last}``."""
    model = ConvNeXtV2(arch=arch, out_indices=-1)
    state = OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
    randomize_(state.items(), seed)
    return state


def _split_block(key: str):
    """``stages.s.b.<module>.<param>`` -> (s, b, module, param), else None."""
    m = re.match(r'stages\.(\d+)\.(\d+)\.(\w+)\.(\w+)$', key)
    return (int(m[1]), int(m[2]), m[3], m[4]) if m else None


def _official_dense(prefix: str, module: str, param: str,
                    value: torch.Tensor) -> Tuple[str, torch.Tensor]:
    """One dense block parameter in the official names (GRN (1, 1, 1, C))."""
    if module == 'grn':
        return f'{prefix}grn.{param}', value.reshape(1, 1, 1, -1)
    return f'{prefix}{_OFFICIAL_BLOCK[module]}.{param}', value


def export_official(backbone: State, head: Optional[State] = None) -> State:
    """Ours -> official dense (GRN (1, 1, 1, C), final norm ``norm``)."""
    last = max(int(k.split('.')[1]) for k in backbone if k.startswith('stages.'))
    out = OrderedDict()
    for key, value in backbone.items():
        block = _split_block(key)
        if key.startswith('downsample_layers.'):
            out[key] = value
        elif block:
            s, b, module, param = block
            name, value = _official_dense(f'stages.{s}.{b}.', module, param,
                                          value)
            out[name] = value
        elif key.startswith(f'norm{last}.'):
            out['norm.' + key.split('.')[-1]] = value
    for key, value in (head or {}).items():
        out['head.' + key.split('.')[-1]] = value
    return out


def minkowski_from_dense(weight: torch.Tensor, depthwise: bool) -> torch.Tensor:
    """Dense conv weight -> MinkowskiEngine kernel, spelled out by loops:
    kernel offset ``x * k + y`` holds the dense weight at row y, column x."""
    k = weight.shape[-1]
    if depthwise:  # (C, 1, k, k) -> (k*k, C)
        kernel = weight.new_empty(k * k, weight.shape[0])
        for x in range(k):
            for y in range(k):
                kernel[x * k + y] = weight[:, 0, y, x]
        return kernel
    c_out, c_in = weight.shape[:2]  # (C_out, C_in, k, k) -> (k*k, C_in, C_out)
    kernel = weight.new_empty(k * k, c_in, c_out)
    for x in range(k):
        for y in range(k):
            kernel[x * k + y] = weight[:, :, y, x].t()
    return kernel


def export_fcmae_raw(backbone: State, decoder: State) -> State:
    """Ours (backbone, and decoder in our block names) -> a raw FCMAE
    training checkpoint: ``encoder.`` + Minkowski modules, dense decoder."""
    out = OrderedDict()
    for key, value in backbone.items():
        m = re.match(r'downsample_layers\.(\d+)\.(\d+)\.(\w+)$', key)
        block = _split_block(key)
        if m and m[1] == '0':  # the stem stays dense
            out['encoder.' + key] = value
        elif m and m[2] == '0':  # Minkowski LayerNorm
            out[f'encoder.downsample_layers.{m[1]}.0.ln.{m[3]}'] = value
        elif m:  # Minkowski 2x2 convolution
            name = 'kernel' if m[3] == 'weight' else 'bias'
            out[f'encoder.downsample_layers.{m[1]}.1.{name}'] = (
                minkowski_from_dense(value, False) if name == 'kernel'
                else value.reshape(1, -1))
        elif block:
            s, b, module, param = block
            pre = f'encoder.stages.{s}.{b}.'
            if module == 'depthwise_conv' and param == 'weight':
                out[pre + 'dwconv.kernel'] = minkowski_from_dense(value, True)
            elif module == 'depthwise_conv':
                out[pre + 'dwconv.bias'] = value.reshape(1, -1)
            elif module == 'norm':
                out[pre + f'norm.ln.{param}'] = value
            elif module == 'grn':
                out[pre + f'grn.{param}'] = value.reshape(1, -1)
            else:
                out[pre + f'{_OFFICIAL_BLOCK[module]}.linear.{param}'] = value
        # the sparse encoder has no output norms
    for key, value in decoder.items():
        block = _split_block(key.replace('decoder.', 'stages.0.', 1))
        if block:
            _, b, module, param = block
            name, value = _official_dense(f'decoder.{b}.', module, param, value)
            out[name] = value
        else:
            out[key] = value
    return out


def export_timm(backbone: State, head: Optional[State] = None,
                conv_mlp: bool = True) -> State:
    """Ours -> timm ``convnextv2_*`` (1x1 conv MLP for atto..nano)."""
    last = max(int(k.split('.')[1]) for k in backbone if k.startswith('stages.'))
    out = OrderedDict()
    for key, value in backbone.items():
        m = re.match(r'downsample_layers\.(\d+)\.(\d+)\.(\w+)$', key)
        block = _split_block(key)
        if m and m[1] == '0':
            out[f'stem.{m[2]}.{m[3]}'] = value
        elif m:
            out[f'stages.{m[1]}.downsample.{m[2]}.{m[3]}'] = value
        elif block:
            s, b, module, param = block
            pre = f'stages.{s}.blocks.{b}.'
            if module == 'grn':
                name = {'gamma': 'weight', 'beta': 'bias'}[param]
                out[pre + f'mlp.grn.{name}'] = value
            else:
                if conv_mlp and module.startswith('pointwise') \
                        and param == 'weight':
                    value = value[:, :, None, None]
                out[pre + f'{_TIMM_BLOCK[module]}.{param}'] = value
        elif key.startswith(f'norm{last}.'):
            out['head.norm.' + key.split('.')[-1]] = value
    for key, value in (head or {}).items():
        out['head.fc.' + key.split('.')[-1]] = value
    return out


def export_hf(backbone: State, head: Optional[State] = None,
              prefix: str = 'convnextv2.') -> State:
    """Ours -> Hugging Face ``ConvNextV2ForImageClassification`` (or, with
    ``prefix=''`` and no head, ``ConvNextV2Model``)."""
    last = max(int(k.split('.')[1]) for k in backbone if k.startswith('stages.'))
    out = OrderedDict()
    for key, value in backbone.items():
        m = re.match(r'downsample_layers\.(\d+)\.(\d+)\.(\w+)$', key)
        block = _split_block(key)
        if m and m[1] == '0':
            name = 'patch_embeddings' if m[2] == '0' else 'layernorm'
            out[f'{prefix}embeddings.{name}.{m[3]}'] = value
        elif m:
            out[f'{prefix}encoder.stages.{m[1]}.downsampling_layer.{m[2]}.'
                f'{m[3]}'] = value
        elif block:
            s, b, module, param = block
            pre = f'{prefix}encoder.stages.{s}.layers.{b}.'
            if module == 'grn':
                name = {'gamma': 'weight', 'beta': 'bias'}[param]
                out[pre + f'grn.{name}'] = value.reshape(1, 1, 1, -1)
            else:
                out[pre + f'{_HF_BLOCK[module]}.{param}'] = value
        elif key.startswith(f'norm{last}.'):
            out[f'{prefix}layernorm.' + key.split('.')[-1]] = value
    for key, value in (head or {}).items():
        out['classifier.' + key.split('.')[-1]] = value
    return out


def pretrained(arch, path: str, prefix: Optional[str] = None,
               **kwargs) -> ConvNeXtV2:
    """A ConvNeXtV2 initialised from ``path`` through ``init_cfg``."""
    init_cfg = dict(type='Pretrained', checkpoint=str(path))
    if prefix is not None:
        init_cfg['prefix'] = prefix
    model = ConvNeXtV2(arch=arch, init_cfg=init_cfg, **kwargs)
    model.init_weights()
    return model.eval()


