"""The feature-collapse analysis of ``tools/analysis_tools/feature_collapse.py``:
build every checkpoint's backbone (:mod:`.collapse_backbones`), measure
every block on the first images of a folder (:mod:`.collapse_taps`, the
measure of :mod:`.collapse_metric`) and write each tap's files
(:mod:`.collapse_report`).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmconvnextv2.utils import list_images

from .collapse_backbones import CheckpointSpec, build_backbone, middle_block
from .collapse_report import write_tap_outputs
from .collapse_taps import analyse_taps, check_taps

__all__ = ['feature_collapse_taps', 'feature_collapse']


def _labels(checkpoints: Sequence[CheckpointSpec]) -> List[str]:
    """The checkpoints' labels; ValueError when none or not unique."""
    labels = [spec.label for spec in checkpoints]
    if not labels:
        raise ValueError('no checkpoints given')
    if len(set(labels)) != len(labels):
        raise ValueError(f'checkpoint labels must be unique, got {labels}')
    return labels


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
    check_taps(taps)
    _labels(checkpoints)
    images = list_images(image_dir, recursive=False)[:num_images]
    models = {spec.label: build_backbone(arch, spec, seed)
              for spec in checkpoints}
    chosen = grid_block or middle_block(next(iter(models.values())))
    analysed = analyse_taps(models, images, size, taps, chosen, progress)
    arch_name = arch if isinstance(arch, str) else dict(arch)
    out = {}
    for tap, out_dir in out_dirs.items():
        out[tap] = {spec.label: dict(
            arch=arch_name, block_type=models[spec.label].block_type,
            checkpoint=spec.path, tap=tap, num_images=len(images), size=size,
            blocks=analysed[tap].blocks[spec.label]) for spec in checkpoints}
        write_tap_outputs(out_dir, out[tap], analysed[tap].grids, images,
                          image_dir, chosen, grid_channels)
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
        The content of ``collapse.json`` (see :mod:`.collapse_report`).
    """
    check_taps([tap])
    return feature_collapse_taps(
        arch, checkpoints, image_dir, {tap: out_dir}, num_images, size, seed,
        grid_block, grid_channels, progress)[tap]
