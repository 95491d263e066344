"""Export a trained model to ONNX and check the file against PyTorch.

What is exported (the input is the normalised image, ``(N, C, H, W)``
float32, N free, C the backbone's ``in_channels``: the normalisation of the
config's ``data_preprocessor``, or of its test pipeline's ``Normalize`` for
a C-channel config that normalises there, is not in the graph and is
written into the file's metadata, with C as ``channels``):

* ``backbone``, any config: the backbone's multi-scale feature maps
  ``feat0`` ... (the dense path; the masked FCMAE path is not exported);
* ``model``, a classifier: ``logits`` ``(N, num_classes)`` (before softmax);
* ``model``, UperNet (any mmseg ``EncoderDecoder``): ``seg_logits``
  ``(N, num_classes, H, W)``, resized to the input as mmseg's
  ``encode_decode`` does;
* ``model``, Mask R-CNN (any mmdet detector with a neck): backbone + neck,
  the FPN maps ``fpn0`` ... The RPN and RoI heads (proposal decoding, NMS,
  RoIAlign, per-class masks) are not plain tensor programs; exporting them
  is mmdeploy's domain (its custom ONNX ops and TensorRT plugins).
"""
import copy
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from torch import Tensor, nn

from ..checkpoint import load_backbone_checkpoint
from ..checkpoint.channels import stem_in_channels
from .model_loading import config_task, load_config, load_model_checkpoint
from ..utils.models import build_model

# stride of the last ConvNeXt V2 stage: every stage halves an even size
STRIDE = 32
WHATS = ('backbone', 'model')
OPSET = 17  # LayerNormalization is a native op from opset 17


def input_channels(module: nn.Module) -> int:
    """The image channels an export module (of :func:`build_export_module`)
    takes: its ConvNeXt V2 stem's."""
    for part in module.modules():
        if hasattr(part, 'downsample_layers'):
            return stem_in_channels(part)
    return 3


class _Backbone(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.backbone = model.backbone

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        return tuple(self.backbone(x))


class _BackboneNeck(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.backbone, self.neck = model.backbone, model.neck

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        return tuple(self.neck(self.backbone(x)))


class _ClassifierLogits(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x, mode='tensor')  # head(neck(backbone)): logits


class AdaptiveAvgPoolAsMatmul(nn.Module):
    """``nn.AdaptiveAvgPool2d`` as two matrix products with the bins'
    averaging weights: the same numbers, for any input size. The ONNX
    exporter only takes adaptive pooling whose output size divides the input
    size, which UperNet's pyramid pooling (scales 1, 2, 3, 6) breaks at
    every input side that is not a multiple of 6 x 32 (512 included)."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    @staticmethod
    def _bins(size: int, out: int, like: Tensor) -> Tensor:
        weights = torch.zeros(out, size, dtype=like.dtype, device=like.device)
        for i in range(out):  # torch's bin edges: floor / ceil
            start, end = (i * size) // out, -(-((i + 1) * size) // out)
            weights[i, start:end] = 1.0 / (end - start)
        return weights

    def forward(self, x: Tensor) -> Tensor:
        h, w = int(x.shape[-2]), int(x.shape[-1])  # fixed in the export
        out = self.output_size
        oh, ow = (out, out) if isinstance(out, int) else out
        oh, ow = oh or h, ow or w
        return self._bins(h, oh, x) @ x @ self._bins(w, ow, x).t()


def replace_adaptive_pools(module: nn.Module) -> int:
    """Swap every ``nn.AdaptiveAvgPool2d`` of ``module`` for
    :class:`AdaptiveAvgPoolAsMatmul`; return how many."""
    found = [(parent, name, child) for parent in module.modules()
             for name, child in parent.named_children()
             if isinstance(child, nn.AdaptiveAvgPool2d)]
    for parent, name, child in found:
        setattr(parent, name, AdaptiveAvgPoolAsMatmul(child.output_size))
    return len(found)


class _SegmentorLogits(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        # mmseg's own path from an image batch to logits at the input size
        meta = dict(img_shape=tuple(x.shape[2:]), pad_shape=tuple(x.shape[2:]))
        return self.model.encode_decode(x, [meta])  # the head reads [0]


def check_shape(shape: Sequence[int]) -> Tuple[int, int]:
    """``(H, W)``, both positive multiples of 32, else a ValueError naming
    the value."""
    if len(shape) != 2:
        raise ValueError(f'--shape takes H W, got {list(shape)}')
    for name, value in zip(('height', 'width'), shape):
        if value <= 0 or value % STRIDE:
            raise ValueError(
                f'--shape {shape[0]} {shape[1]}: {name} {value} is not a '
                f'positive multiple of {STRIDE} (the backbone downsamples by '
                f'{STRIDE}; e.g. {max(STRIDE, round(value / STRIDE) * STRIDE)})')
    return int(shape[0]), int(shape[1])


def build_export_module(config: str, checkpoint: str, what: str = 'model'
                        ) -> Tuple[nn.Module, List[str], Config, str]:
    """The module to export with the checkpoint loaded (a 3-channel one
    into a C-channel model by the config's stem rule), its output names,
    the config and its task."""
    if what not in WHATS:
        raise ValueError(f'--what {what!r}: choose from {list(WHATS)}')
    cfg = load_config(config)
    try:
        task = config_task(cfg, config)
    except ValueError:
        if what != 'backbone':  # the backbone of e.g. an FCMAE config
            raise
        task = 'other'
    model = revert_sync_batchnorm(build_model(cfg, init=False)).eval()
    if what == 'backbone':
        # any file holding this backbone: ours, FCMAE, a whole detector ...
        load_backbone_checkpoint(model.backbone, checkpoint,
                                 stem_rule=cfg.get('stem_rule', 'mean'))
        module, prefix = _Backbone(model), 'feat'
    else:
        load_model_checkpoint(model, checkpoint, task, config,
                              stem_rule=cfg.get('stem_rule', 'mean'))
        if task == 'cls':
            module, prefix = _ClassifierLogits(model), None
        elif task == 'seg':
            module, prefix = _SegmentorLogits(model), None
        else:
            module, prefix = _BackboneNeck(model), 'fpn'
    module.eval()
    if prefix is None:
        names = ['logits' if task == 'cls' else 'seg_logits']
    else:
        with torch.no_grad():
            count = len(module(torch.zeros(1, input_channels(module), STRIDE,
                                           STRIDE)))
        names = [f'{prefix}{i}' for i in range(count)]
    return module, names, cfg, task


def _pipeline_normalize(cfg: Config) -> dict:
    """The ``Normalize`` of the test pipeline, or an empty dict."""
    loader = cfg.get('test_dataloader') or {}
    for step in (loader.get('dataset') or {}).get('pipeline') or []:
        if isinstance(step, dict) and \
                str(step.get('type', '')).split('.')[-1] == 'Normalize':
            return dict(step)
    return {}


def preprocessing_meta(cfg: Config) -> Dict[str, str]:
    """The normalisation the exported graph expects to have been applied:
    the data preprocessor's, or (none there) the test pipeline's
    ``Normalize``."""
    pre = cfg.get('model', {}).get('data_preprocessor') or \
        cfg.get('data_preprocessor') or {}
    if pre.get('mean') is None:
        pre = _pipeline_normalize(cfg) or pre
    return {
        'mean': str(list(pre.get('mean', []))),
        'std': str(list(pre.get('std', []))),
        'rgb': str(bool(pre.get('bgr_to_rgb', pre.get('to_rgb', False)))),
    }


def export_onnx(module: nn.Module, names: List[str], out: str,
                shape: Tuple[int, int], metadata: Optional[Dict[str, str]] = None
                ) -> None:
    """Write ``module`` to ``out`` with a dynamic batch axis, its input of
    :func:`input_channels` channels."""
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    dummy = torch.zeros(1, input_channels(module), *shape)
    axes = {name: {0: 'batch'} for name in ['input', *names]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')  # the TorchScript exporter's notice
        # dynamo=False: the TorchScript-based exporter. torch 2.14's default
        # (dynamo) exporter needs the onnxscript package on top of onnx and
        # traces with torch.export, which the mmdet/mmseg modules (data
        # sample dicts, Python-side shape logic) do not all pass; the plain
        # tensor wrappers above trace cleanly with the TorchScript exporter,
        # which torch 2.14 still ships (deprecated).
        torch.onnx.export(module, (dummy, ), out, input_names=['input'],
                          output_names=names, dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    if metadata:
        import onnx
        proto = onnx.load(out)
        for key, value in metadata.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, out)


def check_parity(module: nn.Module, names: List[str], out: str,
                 shape: Tuple[int, int], batch: int = 2, seed: int = 0
                 ) -> Dict[str, Tuple[float, float]]:
    """Run the file with onnxruntime and ``module`` with PyTorch on one
    random batch of the module's :func:`input_channels` (another batch size
    than the export's, to exercise the dynamic axis). Returns, per output,
    (largest absolute difference, that over the largest absolute PyTorch
    value)."""
    import onnxruntime as ort
    x = torch.randn(batch, input_channels(module), *shape,
                    generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        ref = module(x)
    ref = [ref] if isinstance(ref, Tensor) else list(ref)
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    got = session.run(names, {'input': x.numpy()})
    diffs = {}
    for name, r, g in zip(names, ref, got):
        r = r.numpy()
        if r.shape != g.shape:
            raise AssertionError(f'{name}: onnxruntime shape {g.shape} vs '
                                 f'PyTorch {r.shape}')
        abs_diff = float(np.abs(r - g).max())
        diffs[name] = (abs_diff, abs_diff / max(float(np.abs(r).max()), 1e-12))
    return diffs


def export_and_check(module: nn.Module, names: List[str], out: str,
                     shape: Tuple[int, int],
                     metadata: Optional[Dict[str, str]] = None
                     ) -> Dict[str, Tuple[float, float]]:
    """Export a copy of ``module`` whose adaptive pools are rewritten as
    matrix products (:func:`replace_adaptive_pools`), then compare the file
    with the original ``module`` (see :func:`check_parity`)."""
    exported = copy.deepcopy(module)
    replace_adaptive_pools(exported)
    export_onnx(exported, names, out, shape, metadata)
    return check_parity(module, names, out, shape)


def require_onnx() -> None:
    """A clear error when the optional export packages are missing."""
    missing = []
    for name in ('onnx', 'onnxruntime'):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(f'exporting needs {" and ".join(missing)}: pip '
                          'install -e ".[export]" (or pip install onnx '
                          'onnxruntime)')


__all__ = ['STRIDE', 'WHATS', 'input_channels', 'AdaptiveAvgPoolAsMatmul',
           'replace_adaptive_pools', 'check_shape', 'build_export_module',
           'preprocessing_meta', 'export_onnx', 'check_parity',
           'export_and_check', 'require_onnx']
