"""Feature collapse, measured as in the ConvNeXt V2 paper (its Figures 3 and 4).

For every block of a backbone and one image, take the tapped activation
``X`` (``H x W x C``) and, with ``X_i`` the ``HW``-vector of channel ``i``::

    distance = (1 / C^2) * sum_i sum_j (1 - cos(X_i, X_j)) / 2

averaged over the images. 0 means every channel carries the same map
(collapse); channels that are orthogonal give 1/2 per pair. A channel whose
norm is below ``DEAD_THRESHOLD`` times the largest channel norm of that image
is *dead*: it counts as identical to every channel (cosine 1, with itself and
with other dead channels too), and the fraction of dead channels is reported
beside the distance. The sum over all pairs (the diagonal included, as the
formula says) makes ``C`` orthogonal channels give ``(1 - 1/C) / 2``.

Taps (forward hooks on the blocks' modules, the forward is not copied):

* ``mlp``: the ``4C``-wide activation after GELU, before GRN (``block.act``),
  where the paper shows the collapse;
* ``grn``: after GRN (``block.grn``). A ConvNeXt V1 block has no GRN; its
  ``grn`` is an identity at the same place, so for V1 this tap equals ``mlp``;
* ``block``: the block's output (after the residual sum), ``C`` wide.

Checkpoints load through :func:`mmconvnextv2.checkpoint.load_backbone_checkpoint`
(any layout it reads); ``random`` is a freshly initialised network of the arch
(seeded). The V1/V2 block type of a file is read from its keys (GRN
parameters: V2; none: V1), or forced with a ``:v1`` / ``:v2`` suffix.
"""
import json
import math
import os
import os.path as osp
import re
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from ..models.backbones.convnext_v2 import ConvNeXtV2
from ..utils.paths import list_images as image_files
from .summary import pyplot

__all__ = [
    'TAPS', 'DEAD_THRESHOLD', 'IMAGENET_MEAN', 'IMAGENET_STD',
    'channel_distance', 'CheckpointSpec', 'parse_checkpoint_spec',
    'checkpoint_block_type', 'build_backbone', 'list_images', 'load_image',
    'ActivationTaps', 'analyse_taps', 'analyse', 'stage_means',
    'markdown_table', 'plot_distances', 'plot_activation_grid', 'quiet_logs',
    'feature_collapse_taps', 'feature_collapse'
]

TAPS: Tuple[str, ...] = ('mlp', 'grn', 'block')
#: A channel with a norm below this times the image's largest is dead.
DEAD_THRESHOLD = 1e-6
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# ------------------------------------------------------------------ metric
def channel_distance(x: torch.Tensor) -> Tuple[float, float]:
    """Mean pairwise cosine distance between the channels of one image's map,
    and the fraction of dead channels.

    Args:
        x: Channel-last activation ``(..., C)`` of ONE image (e.g.
            ``(H, W, C)``); all leading dimensions are spatial.

    Returns:
        ``(distance, dead_fraction)`` as defined in the module docstring.
    """
    if x.dim() < 2:
        raise ValueError('an activation needs spatial and channel dimensions, '
                         f'got shape {tuple(x.shape)}')
    c = x.shape[-1]
    flat = x.reshape(-1, c).double()
    norms = torch.linalg.vector_norm(flat, dim=0)
    top = norms.max()
    dead = norms < DEAD_THRESHOLD * top if top > 0 else \
        torch.ones_like(norms, dtype=torch.bool)
    alive = ~dead
    units = flat[:, alive] / norms[alive]
    # sum over alive pairs of cos = |sum of unit vectors|^2; every pair with
    # a dead channel has cosine 1, so it adds nothing to the distance
    num_alive = float(alive.sum())
    cos_sum = float(units.sum(dim=1).pow(2).sum())
    distance = max(0., (num_alive * num_alive - cos_sum) / (2 * c * c))
    return distance, float(dead.sum()) / c


# ------------------------------------------------------------- checkpoints
@dataclass
class CheckpointSpec:
    """A ``LABEL=PATH[:v1|:v2]`` argument: ``path`` is a file or ``random``,
    ``block_type`` None when it is to be read from the file (V2 for random)."""
    label: str
    path: str
    block_type: Optional[str] = None


def parse_checkpoint_spec(text: str) -> CheckpointSpec:
    """Parse ``LABEL=PATH``, ``LABEL=random`` or either with ``:v1``/``:v2``."""
    label, sep, path = text.partition('=')
    if not sep or not label or not path:
        raise ValueError(f'checkpoint {text!r} is not LABEL=PATH (PATH a file '
                         "or 'random', optionally ending in :v1 or :v2)")
    block_type = None
    m = re.match(r'(.+):(v[12])$', path)
    if m:
        path, block_type = m[1], m[2]
    return CheckpointSpec(label, path, block_type)


#: GRN parameters inside a backbone block, in every layout the loader reads
#: (not those of the FCMAE decoder's block, which is V2 for a V1 encoder too).
_BLOCK_GRN = re.compile(r'(?:^|\.)stages\.\d+\.(?:blocks\.|layers\.)?\d+\.'
                        r'(?:mlp\.)?grn\.')


def checkpoint_block_type(path: str) -> str:
    """``'v2'`` if the checkpoint's backbone blocks hold GRN parameters,
    else ``'v1'``."""
    from ..checkpoint import read_checkpoint, unwrap_state
    state = unwrap_state(read_checkpoint(path, map_location='cpu'))
    return 'v2' if any(_BLOCK_GRN.search(k) for k in state) else 'v1'


def build_backbone(arch: Union[str, dict], spec: CheckpointSpec,
                   seed: int = 0) -> ConvNeXtV2:
    """The backbone of ``arch`` with ``spec``'s weights (random: seeded init),
    in eval mode, returning its last stage's map."""
    random_init = spec.path == 'random'
    if not random_init and not osp.exists(spec.path) and '://' not in spec.path:
        raise FileNotFoundError(f'checkpoint {spec.path!r} of {spec.label!r} '
                                'does not exist')
    block_type = spec.block_type or (
        'v2' if random_init else checkpoint_block_type(spec.path))
    torch.manual_seed(seed)
    model = ConvNeXtV2(arch=arch, block_type=block_type, out_indices=-1,
                       gap_before_final_norm=False, norm_outputs=False)
    model.init_weights()
    if not random_init:
        from ..checkpoint import load_backbone_checkpoint
        load_backbone_checkpoint(model, spec.path)
    return model.eval()


# ------------------------------------------------------------------ images
def list_images(folder: str, num: Optional[int] = None) -> List[str]:
    """The first ``num`` images of ``folder`` (not recursive) by sorted name."""
    return image_files(folder, recursive=False)[:num]


def load_image(path: str, size: int = 224) -> torch.Tensor:
    """RGB, shorter side resized to ``size`` (bicubic), centre crop
    ``size x size``, ImageNet mean/std: a float ``(3, size, size)`` tensor."""
    from PIL import Image
    with Image.open(path) as img:
        img = img.convert('RGB')
        w, h = img.size
        scale = size / min(w, h)
        new = (max(size, round(w * scale)), max(size, round(h * scale)))
        img = img.resize(new, Image.BICUBIC)
        left, top = (new[0] - size) // 2, (new[1] - size) // 2
        img = img.crop((left, top, left + size, top + size))
        array = np.asarray(img, dtype=np.float32) / 255.
    mean = np.array(IMAGENET_MEAN, dtype=np.float32)
    std = np.array(IMAGENET_STD, dtype=np.float32)
    return torch.from_numpy((array - mean) / std).permute(2, 0, 1).contiguous()


# -------------------------------------------------------------------- taps
class ActivationTaps:
    """Forward hooks on every block's ``tap`` module of a ConvNeXtV2 (dense
    path); after a forward, :attr:`outputs` maps ``(stage, block)`` to the
    channel-last activation ``(N, H, W, C)``. Use as a context manager."""

    def __init__(self, backbone: ConvNeXtV2, tap: str) -> None:
        if tap not in TAPS:
            raise ValueError(f'tap must be one of {TAPS}, got {tap!r}')
        self.backbone, self.tap = backbone, tap
        self.outputs: Dict[Tuple[int, int], torch.Tensor] = {}
        self._handles: list = []

    def _module(self, block: nn.Module) -> nn.Module:
        return {'mlp': block.act, 'grn': block.grn, 'block': block}[self.tap]

    def __enter__(self) -> 'ActivationTaps':
        for s, stage in enumerate(self.backbone.stages):
            for b, block in enumerate(stage):
                self._handles.append(self._module(block).register_forward_hook(
                    self._hook((s, b))))
        return self

    def _hook(self, key: Tuple[int, int]):
        channels_first = self.tap == 'block'  # the MLP runs channel-last

        def hook(module: nn.Module, args, output: torch.Tensor) -> None:
            self.outputs[key] = output.permute(0, 2, 3, 1) if channels_first \
                else output
        return hook

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
        return tqdm(total=total, desc='images', unit='img')
    except ImportError:
        from mmengine.utils import ProgressBar
        return ProgressBar(total)


@torch.no_grad()
def analyse_taps(models: Dict[str, ConvNeXtV2], images: Sequence[str],
                 size: int = 224, taps: Sequence[str] = ('mlp', ),
                 grid_block: Optional[Tuple[int, int]] = None,
                 progress: bool = True
                 ) -> Dict[str, Tuple[Dict[str, List[Dict]],
                                      Dict[str, torch.Tensor]]]:
    """Distance and dead fraction of every block of every model, for several
    taps from one forward pass per image and model.

    Args:
        models: Label -> backbone (dense, eval mode).
        images: Image files; each is loaded once and run through every model.
        size: Resize/crop size.
        taps: Some of :data:`TAPS`.
        grid_block: ``(stage, block)`` whose activation of the FIRST image is
            returned for the activation grid; None: none.
        progress: Show a progress bar over the images.

    Returns:
        For each tap, what :func:`analyse` returns for it.
    """
    if not images:
        raise ValueError('no images to analyse')
    bad = [t for t in taps if t not in TAPS]
    if bad or not taps:
        raise ValueError(f'tap must be one of {TAPS}, got {list(taps)}')
    sums: Dict[Tuple[str, str], Dict[Tuple[int, int], List[float]]] = {
        (tap, label): {} for tap in taps for label in models}
    grids: Dict[str, Dict[str, torch.Tensor]] = {tap: {} for tap in taps}
    bar = _progress(len(images), progress)
    for index, path in enumerate(images):
        x = load_image(path, size).unsqueeze(0)
        for label, model in models.items():
            with ExitStack() as stack:
                hooks = {tap: stack.enter_context(ActivationTaps(model, tap))
                         for tap in taps}
                model(x)
            for tap, hooked in hooks.items():
                for key, act in hooked.outputs.items():
                    d, dead = channel_distance(act[0])
                    acc = sums[(tap, label)].setdefault(key, [0., 0.])
                    acc[0] += d
                    acc[1] += dead
                if index == 0 and grid_block is not None:
                    if grid_block not in hooked.outputs:
                        raise ValueError(
                            f'grid block {grid_block} is not a block of '
                            f'{label!r} ({len(model.stages)} stages, depths '
                            f'{model.depths})')
                    grids[tap][label] = hooked.outputs[grid_block][0].clone()
        if bar is not None:
            bar.update()
    if bar is not None and hasattr(bar, 'close'):
        bar.close()
    elif bar is not None:
        print()
    n = len(images)
    return {tap: ({label: [dict(stage=s, block=b, distance=acc[0] / n,
                                dead=acc[1] / n)
                           for (s, b), acc in sorted(sums[(tap, label)].items())]
                   for label in models}, grids[tap])
            for tap in taps}


def analyse(models: Dict[str, ConvNeXtV2], images: Sequence[str],
            size: int = 224, tap: str = 'mlp',
            grid_block: Optional[Tuple[int, int]] = None,
            progress: bool = True
            ) -> Tuple[Dict[str, List[Dict]], Dict[str, torch.Tensor]]:
    """Distance and dead fraction of every block of every model.

    Args:
        models: Label -> backbone (dense, eval mode).
        images: Image files; each is loaded once and run through every model.
        size: Resize/crop size.
        tap: One of :data:`TAPS`.
        grid_block: ``(stage, block)`` whose activation of the FIRST image is
            returned for the activation grid; None: none.
        progress: Show a progress bar over the images.

    Returns:
        ``(distances, grids)``, ``distances`` mapping each label to one
        dict per block (keys stage, block, distance, dead) and ``grids``
        each label to the ``(H, W, C)`` activation of ``grid_block``.
    """
    if tap not in TAPS:
        raise ValueError(f'tap must be one of {TAPS}, got {tap!r}')
    return analyse_taps(models, images, size, [tap], grid_block, progress)[tap]


# ----------------------------------------------------------------- outputs
def stage_means(blocks: Sequence[Dict]) -> List[Dict[str, float]]:
    """Per stage: the mean distance and mean dead fraction of its blocks."""
    stages = sorted({b['stage'] for b in blocks})
    out = []
    for s in stages:
        rows = [b for b in blocks if b['stage'] == s]
        out.append(dict(stage=s,
                        distance=sum(r['distance'] for r in rows) / len(rows),
                        dead=sum(r['dead'] for r in rows) / len(rows)))
    return out


def markdown_table(collapse: Dict[str, Dict]) -> str:
    """Per checkpoint and stage: mean distance and dead fraction (Markdown)."""
    stages = sorted({b['stage'] for r in collapse.values() for b in r['blocks']})
    head = '| checkpoint | ' + ' | '.join(
        f'stage {s}' for s in stages) + ' | all blocks |'
    lines = [head, '|---' * (len(stages) + 2) + '|']
    for label, record in collapse.items():
        means = {m['stage']: m for m in stage_means(record['blocks'])}
        blocks = record['blocks']
        overall = (sum(b['distance'] for b in blocks) / len(blocks),
                   sum(b['dead'] for b in blocks) / len(blocks))
        cells = [f'{means[s]["distance"]:.3f} ({100 * means[s]["dead"]:.1f}%)'
                 for s in stages]
        lines.append(f'| {label} | ' + ' | '.join(cells)
                     + f' | {overall[0]:.3f} ({100 * overall[1]:.1f}%) |')
    tap = next(iter(collapse.values()))['tap'] if collapse else '?'
    return '\n'.join(lines) + (
        f'\n\nMean pairwise cosine distance between channels (tap `{tap}`), '
        'and in brackets the fraction of dead channels, per stage.')


def plot_distances(collapse: Dict[str, Dict], out: str) -> None:
    """Figure-4 style: distance per block over the network (one line per
    checkpoint), and the dead fraction below."""
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(7, 5.5), sharex=True,
        gridspec_kw=dict(height_ratios=[2, 1]))
    for label, record in collapse.items():
        xs = list(range(len(record['blocks'])))
        top.plot(xs, [b['distance'] for b in record['blocks']], marker='o',
                 label=label)
        bottom.plot(xs, [b['dead'] for b in record['blocks']], marker='.',
                    label=label)
    first = next(iter(collapse.values()))['blocks'] if collapse else []
    for i in range(1, len(first)):
        if first[i]['stage'] != first[i - 1]['stage']:
            for ax in (top, bottom):
                ax.axvline(i - .5, color='grey', lw=.6, ls=':')
    tap = next(iter(collapse.values()))['tap'] if collapse else ''
    top.set_ylabel('cosine distance')
    top.set_title(f'Feature collapse: channel distance per block (tap {tap})')
    top.legend(fontsize=8)
    top.set_ylim(0, 1.05 * max(0.5, max((b['distance'] for r in collapse.values()
                                          for b in r['blocks']), default=0)))
    bottom.set_ylabel('dead fraction')
    bottom.set_xlabel('block index over the network (dotted: stage ends)')
    bottom.set_ylim(-0.02, max(0.1, max((b['dead'] for r in collapse.values()
                                         for b in r['blocks']), default=0)
                               * 1.1))
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def _mosaic(act: torch.Tensor, channels: int, columns: int) -> np.ndarray:
    """``channels`` maps of ``(H, W, C)`` (each scaled to [0, 1] on its own;
    a constant map is 0) tiled ``columns`` wide with 1-pixel gaps (NaN)."""
    h, w, c = act.shape
    count = min(channels, c)
    rows = math.ceil(count / columns)
    grid = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    maps = act[..., :count].double().numpy()
    for i in range(count):
        m = maps[..., i]
        span = m.max() - m.min()
        m = (m - m.min()) / span if span > 0 else np.zeros_like(m)
        r, col = divmod(i, columns)
        grid[r * (h + 1):r * (h + 1) + h, col * (w + 1):col * (w + 1) + w] = m
    return grid


def plot_activation_grid(grids: Dict[str, torch.Tensor], out: str,
                         title: str, channels: int = 64,
                         columns: int = 16) -> None:
    """Figure-3 style: the first ``channels`` channel maps of one image at one
    block, one row (of ``channels / columns`` tile lines) per checkpoint."""
    plt = pyplot()
    labels = list(grids)
    fig, axes = plt.subplots(len(labels), 1, squeeze=False,
                             figsize=(12, 3.2 * len(labels)))
    for ax, label in zip(axes[:, 0], labels):
        ax.imshow(_mosaic(grids[label], channels, columns), cmap='viridis',
                  vmin=0, vmax=1, interpolation='nearest')
        ax.set_ylabel(label, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def _grid_block(model: ConvNeXtV2,
                grid_block: Optional[Tuple[int, int]]) -> Tuple[int, int]:
    """``grid_block`` or, if None, the middle block of the network."""
    if grid_block is not None:
        return grid_block
    middle = sum(model.depths) // 2
    for s, depth in enumerate(model.depths):
        if middle < depth:
            return s, middle
        middle -= depth
    return len(model.depths) - 1, model.depths[-1] - 1


def quiet_logs() -> None:
    """Make a WARNING-level mmengine logger current, so that building and
    loading the backbones does not print every parameter's init."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance(f'feature_collapse-{time.time_ns()}',
                          log_level='WARNING')


def feature_collapse_taps(arch: Union[str, dict],
                          checkpoints: Sequence[CheckpointSpec],
                          image_dir: str, out_dirs: Dict[str, str],
                          num_images: int = 50, size: int = 224,
                          seed: int = 0,
                          grid_block: Optional[Tuple[int, int]] = None,
                          grid_channels: int = 64,
                          progress: bool = True) -> Dict[str, Dict[str, Dict]]:
    """:func:`feature_collapse` for several taps at once (one forward pass
    per image and checkpoint): ``out_dirs`` maps each tap to its folder.

    Returns:
        For each tap, the content of its ``collapse.json``.
    """
    taps = list(out_dirs)
    bad = [t for t in taps if t not in TAPS]
    if bad or not taps:
        raise ValueError(f'tap must be one of {TAPS}, got {taps}')
    labels = [spec.label for spec in checkpoints]
    if not labels:
        raise ValueError('no checkpoints given')
    if len(set(labels)) != len(labels):
        raise ValueError(f'checkpoint labels must be unique, got {labels}')
    images = list_images(image_dir, num_images)
    models = {spec.label: build_backbone(arch, spec, seed)
              for spec in checkpoints}
    chosen = _grid_block(next(iter(models.values())), grid_block)
    analysed = analyse_taps(models, images, size, taps, chosen, progress)
    arch_name = arch if isinstance(arch, str) else dict(arch)
    out = {}
    for tap, out_dir in out_dirs.items():
        results, grids = analysed[tap]
        collapse = {spec.label: dict(
            arch=arch_name, block_type=models[spec.label].block_type,
            checkpoint=spec.path, tap=tap, num_images=len(images), size=size,
            blocks=results[spec.label]) for spec in checkpoints}
        os.makedirs(out_dir, exist_ok=True)
        with open(osp.join(out_dir, 'collapse.json'), 'w') as f:
            json.dump(collapse, f, indent=2)
        with open(osp.join(out_dir, 'collapse.md'), 'w') as f:
            f.write(f'# Feature collapse ({len(images)} images from '
                    f'{image_dir}, {size} px)\n\n{markdown_table(collapse)}\n')
        plot_distances(collapse, osp.join(out_dir, 'collapse.png'))
        plot_activation_grid(
            grids, osp.join(out_dir, 'activations.png'),
            f'{osp.basename(images[0])}: stage {chosen[0]} block {chosen[1]}, '
            f'tap {tap}, first {grid_channels} channels (each scaled alone)',
            channels=grid_channels)
        out[tap] = collapse
    return out


def feature_collapse(arch: Union[str, dict],
                     checkpoints: Sequence[CheckpointSpec], image_dir: str,
                     out_dir: str, num_images: int = 50, size: int = 224,
                     tap: str = 'mlp', seed: int = 0,
                     grid_block: Optional[Tuple[int, int]] = None,
                     grid_channels: int = 64,
                     progress: bool = True) -> Dict[str, Dict]:
    """The whole analysis: build every checkpoint's backbone, measure, write
    ``collapse.json``, ``collapse.md``, ``collapse.png`` (Figure 4 style) and
    ``activations.png`` (Figure 3 style) into ``out_dir``.

    Returns:
        The content of ``collapse.json``: for each label, a dict with
        ``arch``, ``block_type``, ``checkpoint``, ``tap``, ``num_images``,
        ``size`` and ``blocks`` (one dict per block: ``stage``, ``block``,
        ``distance``, ``dead``).
    """
    if tap not in TAPS:
        raise ValueError(f'tap must be one of {TAPS}, got {tap!r}')
    return feature_collapse_taps(
        arch, checkpoints, image_dir, {tap: out_dir}, num_images, size, seed,
        grid_block, grid_channels, progress)[tap]
