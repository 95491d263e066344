"""The quickstart's pictures: the FCMAE reconstruction (by
``tools/misc/visualize_fcmae.py``), the loss curves, and per task the
validation images with the ground truth and each start's predictions (the
test visualisations of mmdet, mmseg and mmpretrain, put side by side with
titles that read)."""
import glob
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from mmconvnextv2.utils import IMAGE_EXTENSIONS, write_via_temp

from .progress import ProgressBoard
from .results import loss_history
from .runner import ToolRunner
from .summary import pyplot

__all__ = ['PictureSet', 'visualise_reconstruction', 'plot_losses',
           'compare_pictures', 'tile_scale', 'score_caption']

#: Tiles narrower than this are magnified (an integer factor) ...
MIN_TILE = 256
#: ... and wider ones shrunk to it.
MAX_TILE = 480
_COLOURS = ('tab:blue', 'tab:orange', 'tab:green', 'tab:red', 'tab:brown')


@dataclass
class PictureSet:
    """One comparison picture: ``out`` (a file name in the work dir),
    ``runs`` (column title -> run dir, one column each), ``ground_truth``
    (the visualisations are ground truth | prediction, as mmdet's and
    mmseg's draw them: a ground-truth column first), ``caption`` (a line
    under the titles, e.g. the score threshold)."""
    out: str
    runs: Dict[str, str]
    ground_truth: bool = True
    caption: str = ''


def visualise_reconstruction(work: str, fcmae_config: str, checkpoint: str,
                             images: str, size: int,
                             bands: Optional[Sequence[int]] = None) -> str:
    """``fcmae_reconstruction.png`` by tools/misc/visualize_fcmae.py, on
    the first images of the folder ``images`` at ``size`` px. Images of C
    bands (a config loading with ``LoadAnyImageFromFile``) are shown by
    their first three bands (one: grey) or ``bands``, by
    :func:`~mmconvnextv2.utils.display.display_rgb`."""
    recon = osp.join(work, 'fcmae_reconstruction.png')
    board = ProgressBoard()
    chosen = ['--bands', ','.join(map(str, bands))] if bands else []
    ToolRunner(quiet=True, board=board, root=work)(
        'tools/misc/visualize_fcmae.py',
        [fcmae_config, checkpoint, images, '--out', recon, '--size',
         str(size), *chosen], osp.join(work, 'pretrain', 'tool.log'))
    board.close()
    return recon


def plot_losses(work: str, panels: Sequence[Tuple[str, Dict[str, str]]],
                out: str) -> None:
    """Loss curves: the pre-training (``work/pretrain``), then a panel per
    ``(title, {label: run dir})``."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 1 + len(panels),
                             figsize=(4.4 * (1 + len(panels)), 3.6))
    curve = loss_history(osp.join(work, 'pretrain'))
    axes[0].plot(curve['iter'], curve['loss'], color='tab:purple')
    axes[0].set_title('FCMAE pre-training (masked-patch MSE)')
    for ax, (title, runs) in zip(axes[1:], panels):
        for (label, run_dir), colour in zip(runs.items(), _COLOURS * 4):
            curve = loss_history(run_dir)
            ax.plot(curve['iter'], curve['loss'], color=colour, label=label)
        ax.set_title(title)
        ax.legend()
    for ax in axes:
        ax.set_xlabel('iteration')
        ax.set_ylabel('loss')
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def _visualisations(run_dir: str) -> Dict[str, str]:
    """File name -> path of the test visualisations of a run."""
    found = [p for p in glob.glob(osp.join(run_dir, 'test', '**', 'vis',
                                           '**', '*'), recursive=True)
             if p.lower().endswith(IMAGE_EXTENSIONS)]
    return {osp.basename(path): path for path in sorted(found)}


def tile_scale(width: int) -> float:
    """The factor a tile ``width`` px wide is drawn at: an integer
    magnification up to :data:`MIN_TILE`, a reduction down to
    :data:`MAX_TILE`."""
    if width < MIN_TILE:
        return float(max(1, MIN_TILE // width))
    return min(1., MAX_TILE / width)


def _font(size: int):
    from PIL import ImageFont
    try:  # a scalable font: spaces and sizes as written
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow before 10.1: the bitmap font
        return ImageFont.load_default()


def _tiles(drawing, ground_truth: bool) -> List:
    """The tiles of one visualisation: (ground truth, prediction) halves,
    or the whole drawing."""
    img = drawing.convert('RGB')
    if not ground_truth:
        return [img]
    half = img.width // 2
    return [img.crop((0, 0, half, img.height)),
            img.crop((half, 0, 2 * half, img.height))]


def _compose(rows: List[List], titles: Sequence[str], caption: str):
    """A white canvas: a title over each column, ``caption`` under them,
    then the rows of tiles, each scaled to the first tile's column width."""
    from PIL import Image, ImageDraw
    first = rows[0][0]
    scale = tile_scale(first.width)
    col = round(first.width * scale)
    heights = [round(r[0].height * col / r[0].width) for r in rows]
    font, line = _font(15), 24
    head = line * (2 if caption else 1) + 4
    canvas = Image.new('RGB', (len(titles) * col, head + sum(heights)),
                       'white')
    draw = ImageDraw.Draw(canvas)
    for i, title in enumerate(titles):
        draw.text((i * col + 8, 4), title, fill='black', font=font)
    if caption:
        draw.text((8, line + 2), caption, fill=(70, 70, 70),
                  font=_font(13))
    top = head
    for row, height in zip(rows, heights):
        for c, tile in enumerate(row):
            resample = Image.NEAREST if col >= tile.width else Image.LANCZOS
            canvas.paste(tile.resize((col, height), resample), (c * col, top))
        top += height
    return canvas


def compare_pictures(work: str, sets: Sequence[PictureSet], count: int = 3
                     ) -> List[str]:
    """Each set's picture in ``work``: the first ``count`` validation
    images that every run drew, a row each: the ground truth where drawn,
    then one column per run. Returns the pictures written (a set whose runs drew nothing is
    left out)."""
    written = []
    for spec in sets:
        drawn = [_visualisations(d) for d in spec.runs.values()]
        names = [n for n in drawn[0] if all(n in d for d in drawn)][:count]
        if not names:
            continue
        from PIL import Image
        rows = []
        for name in names:
            tiles = [_tiles(Image.open(d[name]), spec.ground_truth)
                     for d in drawn]
            truth = [tiles[0][0]] if spec.ground_truth else []
            rows.append(truth + [t[-1] for t in tiles])
        titles = (['ground truth'] if spec.ground_truth else []) + \
            list(spec.runs)
        out = osp.join(work, spec.out)
        canvas = _compose(rows, titles, spec.caption)
        write_via_temp(out, lambda tmp: canvas.save(tmp, optimize=True))
        written.append(out)
    return written


def score_caption(threshold: Optional[float]) -> str:
    """The caption of a detector's picture."""
    if threshold is None:
        return ''
    return (f'predicted boxes and masks drawn where the score is above '
            f'{threshold:g}')
