"""Where feature collapse is measured: forward hooks on the blocks of a
ConvNeXtV2 (dense path; the forward is not copied), and the measure of
:mod:`.collapse_metric` over the images, for several taps from one forward
pass per image and model.

Taps:

* ``mlp``: the ``4C``-wide activation after GELU, before GRN (``block.act``),
  where the paper shows the collapse;
* ``grn``: after GRN (``block.grn``). A ConvNeXt V1 block has no GRN; its
  ``grn`` is an identity at the same place, so for V1 this tap equals ``mlp``;
* ``block``: the block's output (after the residual sum), ``C`` wide.
"""
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from mmconvnextv2.models.backbones.convnext_v2 import ConvNeXtV2
from mmconvnextv2.visualization import load_images

from .collapse_metric import channel_distance

__all__ = ['TAPS', 'IMAGENET_MEAN', 'IMAGENET_STD', 'load_image',
           'ActivationTaps', 'TapResult', 'analyse_taps', 'analyse']

TAPS: Tuple[str, ...] = ('mlp', 'grn', 'block')
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Block = Tuple[int, int]  # (stage, block)


def load_image(path: str, size: int = 224) -> torch.Tensor:
    """RGB, shorter side resized to ``size`` (bicubic), centre crop
    ``size x size`` (:func:`mmconvnextv2.visualization.load_images`),
    ImageNet mean/std: a float ``(3, size, size)`` tensor."""
    array = load_images([path], size)[0].permute(1, 2, 0).numpy().astype(
        np.float32) / 255.
    mean = np.array(IMAGENET_MEAN, dtype=np.float32)
    std = np.array(IMAGENET_STD, dtype=np.float32)
    return torch.from_numpy((array - mean) / std).permute(2, 0, 1).contiguous()


class ActivationTaps:
    """Forward hooks on every block's ``tap`` module of a ConvNeXtV2 (dense
    path); after a forward, ``outputs`` maps ``(stage, block)`` to the
    channel-last activation ``(N, H, W, C)``. Use as a context manager."""

    def __init__(self, backbone: ConvNeXtV2, tap: str) -> None:
        check_taps([tap])
        self.backbone, self.tap = backbone, tap
        self.outputs: Dict[Block, torch.Tensor] = {}
        self._handles: list = []

    def _module(self, block: nn.Module) -> nn.Module:
        return {'mlp': block.act, 'grn': block.grn, 'block': block}[self.tap]

    def __enter__(self) -> 'ActivationTaps':
        for s, stage in enumerate(self.backbone.stages):
            for b, block in enumerate(stage):
                self._handles.append(self._module(block).register_forward_hook(
                    self._hook((s, b))))
        return self

    def _hook(self, key: Block) -> Callable:
        channels_first = self.tap == 'block'  # the MLP runs channel-last

        def hook(module: nn.Module, args, output: torch.Tensor) -> None:
            self.outputs[key] = output.permute(0, 2, 3, 1) if channels_first \
                else output
        return hook

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


@dataclass
class TapResult:
    """What one tap measured over the images.

    Attributes:
        blocks: Label -> one dict per block in network order: ``stage``,
            ``block``, ``distance`` and ``dead`` (means over the images).
        grids: Label -> the ``(H, W, C)`` activation of the grid block for
            the first image (empty without a grid block).
    """
    blocks: Dict[str, List[Dict]] = field(default_factory=dict)
    grids: Dict[str, torch.Tensor] = field(default_factory=dict)


def check_taps(taps: Sequence[str]) -> None:
    """Raise ValueError unless ``taps`` are some of :data:`TAPS`."""
    if not taps or any(t not in TAPS for t in taps):
        shown = taps[0] if len(taps) == 1 else list(taps)
        raise ValueError(f'tap must be one of {TAPS}, got {shown!r}')


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    """A progress bar over ``total`` images (tqdm, else mmengine's);
    yields its step function (a no-op when not ``enabled``)."""
    if not enabled:
        yield lambda: None
        return
    try:
        from tqdm import tqdm
        bar = tqdm(total=total, desc='images', unit='img')
    except ImportError:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(total)
    yield bar.update
    if hasattr(bar, 'close'):
        bar.close()
    else:
        print()


def _forward(model: ConvNeXtV2, x: torch.Tensor, taps: Sequence[str]
             ) -> Dict[str, Dict[Block, torch.Tensor]]:
    """Every tap's activations of one forward pass of ``model``."""
    with ExitStack() as stack:
        hooks = {tap: stack.enter_context(ActivationTaps(model, tap))
                 for tap in taps}
        model(x)
    return {tap: hooked.outputs for tap, hooked in hooks.items()}


def _grid(outputs: Dict[Block, torch.Tensor], grid_block: Block, label: str,
          model: ConvNeXtV2) -> torch.Tensor:
    """The first image's activation of ``grid_block``."""
    if grid_block not in outputs:
        raise ValueError(f'grid block {grid_block} is not a block of '
                         f'{label!r} ({len(model.stages)} stages, depths '
                         f'{model.depths})')
    return outputs[grid_block][0].clone()


def _add(sums: Dict[Block, List[float]],
         outputs: Dict[Block, torch.Tensor]) -> None:
    """Add each block's distance and dead fraction of the first image."""
    for key, act in outputs.items():
        distance, dead = channel_distance(act[0])
        acc = sums.setdefault(key, [0., 0.])
        acc[0] += distance
        acc[1] += dead


def _means(sums: Dict[Block, List[float]], n: int) -> List[Dict]:
    return [dict(stage=s, block=b, distance=acc[0] / n, dead=acc[1] / n)
            for (s, b), acc in sorted(sums.items())]


@torch.no_grad()
def analyse_taps(models: Dict[str, ConvNeXtV2], images: Sequence[str],
                 size: int = 224, taps: Sequence[str] = ('mlp', ),
                 grid_block: Optional[Block] = None,
                 progress: bool = True) -> Dict[str, TapResult]:
    """Distance and dead fraction of every block of every model, for several
    taps from one forward pass per image and model.

    Args:
        models: Label -> backbone (dense, eval mode).
        images: Image files; each is loaded once and run through every model.
        size: Resize/crop size.
        taps: Some of :data:`TAPS`.
        grid_block: ``(stage, block)`` whose activation of the FIRST image is
            kept for the activation grid; None: none.
        progress: Show a progress bar over the images.

    Returns:
        For each tap, its :class:`TapResult`.
    """
    if not images:
        raise ValueError('no images to analyse')
    check_taps(list(taps))
    sums: Dict[Tuple[str, str], Dict[Block, List[float]]] = {
        (tap, label): {} for tap in taps for label in models}
    results = {tap: TapResult() for tap in taps}
    with _progress(len(images), progress) as step:
        for index, path in enumerate(images):
            x = load_image(path, size).unsqueeze(0)
            for label, model in models.items():
                for tap, outputs in _forward(model, x, taps).items():
                    _add(sums[(tap, label)], outputs)
                    if index == 0 and grid_block is not None:
                        results[tap].grids[label] = _grid(
                            outputs, grid_block, label, model)
            step()
    for tap, result in results.items():
        result.blocks = {label: _means(sums[(tap, label)], len(images))
                         for label in models}
    return results


def analyse(models: Dict[str, ConvNeXtV2], images: Sequence[str],
            size: int = 224, tap: str = 'mlp',
            grid_block: Optional[Block] = None,
            progress: bool = True) -> TapResult:
    """:func:`analyse_taps` for one tap."""
    check_taps([tap])
    return analyse_taps(models, images, size, [tap], grid_block, progress)[tap]
