"""The quickstart's pictures: the FCMAE reconstruction (by
``tools/misc/visualize_fcmae.py``), the loss curves, and per task the
validation images with the ground truth and both starts' predictions."""
import glob
import os.path as osp
from typing import Dict, List

from .progress import ProgressBoard
from .quickstart import FCMAE_CFG, STARTS, TASKS
from .results import loss_history
from .runner import ToolRunner
from .summary import pyplot

__all__ = ['visualise_reconstruction', 'plot_losses', 'compare_pictures']


def visualise_reconstruction(work: str, data_root: str,
                              checkpoint: str) -> str:
    """``fcmae_reconstruction.png`` by tools/misc/visualize_fcmae.py."""
    recon = osp.join(work, 'fcmae_reconstruction.png')
    board = ProgressBoard()
    ToolRunner(quiet=True, board=board, root=work)(
        'tools/misc/visualize_fcmae.py',
        [FCMAE_CFG, checkpoint, osp.join(data_root, 'coco', 'val'), '--out',
         recon, '--size', '128'], osp.join(work, 'pretrain', 'tool.log'))
    board.close()
    return recon


def plot_losses(work: str, dirs: Dict[str, str], out: str) -> None:
    """Loss curves: the pre-training, then each task's two starts."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    curve = loss_history(osp.join(work, 'pretrain'))
    axes[0].plot(curve['iter'], curve['loss'], color='tab:purple')
    axes[0].set_title('FCMAE pre-training (masked-patch MSE)')
    for ax, task in zip(axes[1:], TASKS):
        for init, colour in zip(STARTS, ('tab:blue', 'tab:orange')):
            curve = loss_history(dirs[f'{task}_{init}'])
            ax.plot(curve['iter'], curve['loss'], color=colour,
                    label=f'{init} init')
        ax.set_title(f'{TASKS[task][0]} fine-tuning (total loss)')
        ax.legend()
    for ax in axes:
        ax.set_xlabel('iteration')
        ax.set_ylabel('loss')
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def _visualisations(run_dir: str, ext: str) -> Dict[str, str]:
    """File name -> path of the test visualisations of a run (ground truth
    left, prediction right, as mmdet's / mmseg's visualisers draw them)."""
    found = glob.glob(osp.join(run_dir, 'test', '**', 'vis', '**', f'*.{ext}'),
                      recursive=True)
    return {osp.basename(path): path for path in sorted(found)}


def compare_pictures(work: str, dirs: Dict[str, str], count: int = 3,
                     scale: int = 2) -> List[str]:
    """Per task, ``<task>_results.<ext>``: the first ``count`` validation
    images, a row each: ground truth | FCMAE start | random start."""
    from PIL import Image, ImageDraw
    written = []
    for task, ext in (('det', 'jpg'), ('seg', 'png')):  # mmdet / mmseg output
        fcmae = _visualisations(dirs[f'{task}_fcmae'], ext)
        random = _visualisations(dirs[f'{task}_random'], ext)
        names = [n for n in fcmae if n in random][:count]
        if not names:
            continue
        rows = [(Image.open(fcmae[n]).convert('RGB'),
                 Image.open(random[n]).convert('RGB')) for n in names]
        w, h = rows[0][0].width // 2, rows[0][0].height
        head = 22
        canvas = Image.new('RGB', (3 * w * scale, head + len(rows) * h * scale),
                           'white')
        draw = ImageDraw.Draw(canvas)
        for i, title in enumerate(('ground truth', 'FCMAE start',
                                   'random start')):
            draw.text((i * w * scale + 8, 5), title, fill='black')
        for r, (a, b) in enumerate(rows):
            tiles = (a.crop((0, 0, w, h)), a.crop((w, 0, 2 * w, h)),
                     b.crop((w, 0, 2 * w, h)))
            for c, tile in enumerate(tiles):
                canvas.paste(tile.resize((w * scale, h * scale), Image.NEAREST),
                             (c * w * scale, head + r * h * scale))
        out = osp.join(work, f'{task}_results.{ext}')
        canvas.save(out, optimize=True)
        written.append(out)
    return written
