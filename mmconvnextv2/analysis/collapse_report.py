"""What the feature-collapse analysis writes for one tap: ``collapse.json``
(its records), ``collapse.md`` (per-stage table), ``collapse.png``
(Figure-4 style: distance per block) and ``activations.png`` (Figure-3
style: channel maps of one block).

A *collapse* is ``{label: record}``, each record the content of
``collapse.json`` for one checkpoint: ``arch``, ``block_type``,
``checkpoint``, ``tap``, ``num_images``, ``size`` and ``blocks`` (one dict
per block: ``stage``, ``block``, ``distance``, ``dead``).
"""
import math
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import numpy as np
import torch

from mmconvnextv2.utils import write_json

from .collapse_metric import overall_means, stage_means
from .summary import pyplot

__all__ = ['markdown_table', 'plot_distances', 'plot_activation_grid',
           'write_tap_outputs']


def markdown_table(collapse: Dict[str, Dict]) -> str:
    """Per checkpoint and stage: mean distance and dead fraction (Markdown)."""
    stages = sorted({b['stage'] for r in collapse.values() for b in r['blocks']})
    head = '| checkpoint | ' + ' | '.join(
        f'stage {s}' for s in stages) + ' | all blocks |'
    lines = [head, '|---' * (len(stages) + 2) + '|']
    for label, record in collapse.items():
        means = {m['stage']: m for m in stage_means(record['blocks'])}
        overall = overall_means(record['blocks'])
        cells = [f'{means[s]["distance"]:.3f} ({100 * means[s]["dead"]:.1f}%)'
                 for s in stages]
        lines.append(f'| {label} | ' + ' | '.join(cells) +
                     f' | {overall["distance"]:.3f} '
                     f'({100 * overall["dead"]:.1f}%) |')
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


def write_tap_outputs(out_dir: str, collapse: Dict[str, Dict],
                      grids: Dict[str, torch.Tensor], images: Sequence[str],
                      image_dir: str, grid_block: Tuple[int, int],
                      grid_channels: int) -> None:
    """The four files of one tap's analysis in ``out_dir`` (see the module
    docstring); ``images``: the files analysed, from ``image_dir``."""
    record = next(iter(collapse.values()))
    tap, size = record['tap'], record['size']
    os.makedirs(out_dir, exist_ok=True)
    write_json(osp.join(out_dir, 'collapse.json'), collapse)
    with open(osp.join(out_dir, 'collapse.md'), 'w') as f:
        f.write(f'# Feature collapse ({len(images)} images from '
                f'{image_dir}, {size} px)\n\n{markdown_table(collapse)}\n')
    plot_distances(collapse, osp.join(out_dir, 'collapse.png'))
    plot_activation_grid(
        grids, osp.join(out_dir, 'activations.png'),
        f'{osp.basename(images[0])}: stage {grid_block[0]} block '
        f'{grid_block[1]}, tap {tap}, first {grid_channels} channels (each '
        'scaled alone)', channels=grid_channels)
