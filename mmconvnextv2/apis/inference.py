"""Run a trained model on images and folders: what tools/infer.py does.

:func:`run_inference` checks the inputs, picks the predictor of the config's
task (:func:`~mmconvnextv2.apis.predictors.build_predictor`), runs it on
every image and writes ``predictions.json``.
"""
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from ..datasets.transforms.any_image import ANY_IMAGE_EXTENSIONS
from ..utils.fileio import write_json
from .image_inputs import check_image
from .predictors import build_predictor


def _is_image(name: str) -> bool:
    return name.lower().endswith(ANY_IMAGE_EXTENSIONS)


def collect_images(inputs: Sequence[str]) -> Tuple[List[str], bool]:
    """The image files of ``inputs`` (images and folders; a folder stands for
    the images directly inside it, sorted). Returns (paths, whether a folder
    was given).

    Raises:
        FileNotFoundError: an input that does not exist.
        ValueError: a file that is not an image, a folder without images,
            two images of the same file name (their outputs would collide).
    """
    images: List[str] = []
    folder = False
    for item in inputs:
        if osp.isdir(item):
            folder = True
            found = sorted(
                osp.join(item, name) for name in os.listdir(item)
                if _is_image(name)
                and osp.isfile(osp.join(item, name)))
            if not found:
                raise ValueError(f'folder {item!r} holds no images '
                                 f'({", ".join(ANY_IMAGE_EXTENSIONS)})')
            images += found
        elif osp.isfile(item):
            images.append(item)
        else:
            raise FileNotFoundError(f'input not found: {item!r}')
    seen: Dict[str, str] = {}
    for path in images:
        check_image(path)
        stem = osp.splitext(osp.basename(path))[0]
        if stem in seen and seen[stem] != path:
            raise ValueError(f'inputs {seen[stem]!r} and {path!r} have the '
                             'same file name: their outputs would overwrite '
                             'each other')
        seen[stem] = path
    return images, folder


def run_inference(config: str, checkpoint: str, inputs: Sequence[str],
                  out_dir: str, device: str = 'cpu', score_thr: float = 0.3,
                  topk: int = 5, progress: Optional[bool] = None,
                  bands: Optional[Sequence[int]] = None) -> dict:
    """Predict every image of ``inputs`` (files and folders); write one
    drawing per image under ``out_dir/vis``, the label maps of a segmentation
    config under ``out_dir/labels`` and every prediction into
    ``out_dir/predictions.json``. Returns what the JSON holds.

    ``progress`` (default: when a folder or several images are given) prints
    a progress bar. ``bands``: the bands drawn (see
    :class:`~mmconvnextv2.apis.image_inputs.ImageReader`).
    """
    images, folder = collect_images(inputs)
    predictor = build_predictor(config, checkpoint, device, score_thr,
                                topk, bands=bands)
    os.makedirs(out_dir, exist_ok=True)
    if progress is None:
        progress = folder or len(images) > 1
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(images), file=sys.stdout)
    records = []
    for image in images:
        records.append(predictor(image, out_dir))
        if bar is not None:
            bar.update()
    if bar is not None:
        sys.stdout.write('\n')
    summary = dict(
        task=predictor.task, config=config, checkpoint=str(checkpoint),
        classes=list(predictor.classes) if predictor.classes is not None
        else None,
        score_thr=score_thr if predictor.task == 'det' else None,
        images=records)
    write_json(osp.join(out_dir, 'predictions.json'), summary, indent=1)
    return summary


__all__ = ['collect_images', 'run_inference']
