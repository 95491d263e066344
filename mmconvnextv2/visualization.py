"""Pictures of what FCMAE does: original | masked input | reconstruction |
reconstruction with the visible patches pasted back.

An FCMAE config whose training pipeline loads with ``LoadAnyImageFromFile``
(images of C bands, any depth) is shown by its first three bands, or the
``bands`` asked for, each stretched to 8 bits by
:func:`~mmconvnextv2.utils.display.display_rgb` with the original's limits
in all four columns (one band: grey). Its images are read by that loader
and normalised as the pipeline's ``Normalize`` does when the data
preprocessor does not. Other configs read 8-bit RGB images, as before.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmpretrain.structures import DataSample
from PIL import Image

from .datasets.transforms.any_image import (ANY_IMAGE_EXTENSIONS,
                                            LoadAnyImageFromFile)
from .utils.config import innermost_dataset
from .utils.display import band_limits, display_rgb

__all__ = ['load_images', 'load_any_images', 'pipeline_loading',
           'reconstruction_grid', 'write_reconstruction']

Normalize = Optional[Tuple[Sequence[float], Sequence[float]]]


def _crop_size(height: int, width: int, size: int) -> Tuple[int, int]:
    scale = size / min(height, width)
    return max(size, round(height * scale)), max(size, round(width * scale))


def load_images(paths: Sequence[str], size: int) -> torch.Tensor:
    """uint8 ``(N, 3, size, size)``: each image resized (short side) and
    centre-cropped, RGB."""
    images = []
    for path in paths:
        img = Image.open(path).convert('RGB')
        height, width = _crop_size(img.height, img.width, size)
        img = img.resize((width, height), Image.BICUBIC)
        left, top = (img.width - size) // 2, (img.height - size) // 2
        img = img.crop((left, top, left + size, top + size))
        images.append(torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1))
    return torch.stack(images)


def load_any_images(paths: Sequence[str], size: int,
                    loader: LoadAnyImageFromFile) -> torch.Tensor:
    """float32 ``(N, C, size, size)`` read by ``loader`` (bands in its order),
    each resized (short side, bilinear, antialiased) and centre-cropped."""
    images = []
    for path in paths:
        img = loader(dict(img_path=path))['img']
        x = torch.from_numpy(np.ascontiguousarray(img, np.float32))
        x = x.permute(2, 0, 1)[None]
        height, width = _crop_size(x.shape[2], x.shape[3], size)
        x = F.interpolate(x, (height, width), mode='bilinear',
                          antialias=True, align_corners=False)
        top, left = (height - size) // 2, (width - size) // 2
        images.append(x[0, :, top:top + size, left:left + size])
    return torch.stack(images)


def pipeline_loading(cfg: Config) -> Tuple[Optional[LoadAnyImageFromFile],
                                           Normalize]:
    """The training pipeline's ``LoadAnyImageFromFile`` (built; None when it
    loads otherwise) and its ``Normalize`` ``(mean, std)`` (or None)."""
    loader = cfg.get('train_dataloader') or {}
    dataset = innermost_dataset(loader.get('dataset') or {})
    found, normalize = None, None
    for step in dataset.get('pipeline') or []:
        kind = str(step.get('type', '')).split('.')[-1]
        if kind == 'LoadAnyImageFromFile':
            found = LoadAnyImageFromFile(
                **{k: v for k, v in step.items() if k != 'type'})
        elif kind == 'Normalize':
            normalize = (list(step['mean']), list(step['std']))
    return found, normalize


def _columns(model: torch.nn.Module, images: torch.Tensor, seed: int,
             normalize: Normalize) -> List[torch.Tensor]:
    """The four columns, in the input's units (the normalisation undone),
    the model's band order."""
    model.eval()
    prep = model.data_preprocessor
    shift = scale = None
    if getattr(prep, '_enable_normalize', False):
        shift, scale = prep.mean.view(1, -1, 1, 1), prep.std.view(1, -1, 1, 1)
    elif normalize is not None:  # the pipeline normalises: done here
        shift = torch.tensor(normalize[0]).view(1, -1, 1, 1)
        scale = torch.tensor(normalize[1]).view(1, -1, 1, 1)
        images = (images.float() - shift) / scale
    data = prep(default_collate([dict(inputs=img, data_samples=DataSample())
                                 for img in images]), training=False)
    x = data['inputs']
    torch.manual_seed(seed)
    out = model.reconstruct(x)
    pred, mask = out['pred'], out['mask']
    head = model.head
    if getattr(head, 'norm_pix', False):  # undo the per-patch normalisation
        target = head.patchify(x)
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        pred = pred * (var + 1e-6)**.5 + mean
    recon = head.unpatchify(pred)
    p = model.patch_size
    hidden = mask.repeat_interleave(p, 1).repeat_interleave(p, 2)[:, None]
    masked_input = torch.where(hidden, torch.zeros_like(x), x)
    pasted = torch.where(hidden, recon, x)
    columns = [x, masked_input, recon, pasted]
    if shift is not None:
        columns = [t * scale + shift for t in columns]
    return columns


@torch.no_grad()
def reconstruction_grid(model: torch.nn.Module, images: torch.Tensor,
                        seed: int = 0, bands: Optional[Sequence[int]] = None,
                        normalize: Normalize = None) -> np.ndarray:
    """An RGB uint8 grid, one row per image, four columns (see module doc).

    Args:
        model: An ``FCMAE`` model with its training data preprocessor
            (training loads BGR images; with ``to_rgb`` the preprocessor
            flips them, so RGB input is flipped to BGR first).
        images: uint8 ``(N, 3, H, W)`` RGB (:func:`load_images`), or
            ``(N, C, H, W)`` as a ``LoadAnyImageFromFile`` pipeline loads
            them (:func:`load_any_images`), any dtype.
        seed: Seed of the random mask.
        bands: The bands drawn (stored order): one (grey) or three.
        normalize: The pipeline's ``Normalize`` ``(mean, std)``, applied
            when the preprocessor does not normalise.
    """
    prep = model.data_preprocessor
    flips = getattr(prep, '_channel_conversion', False)
    rgb = images.dtype == torch.uint8 and images.shape[1] == 3 and \
        normalize is None
    if rgb and flips:  # the training pipeline loads BGR, flipped to RGB
        images = images.flip(1)
    columns = [t.permute(0, 2, 3, 1).cpu().numpy()
               for t in _columns(model, images, seed, normalize)]
    if not rgb and images.shape[1] == 3 and not flips:
        columns = [c[..., ::-1] for c in columns]  # BGR -> stored order
    rows = []
    for i in range(images.shape[0]):
        if rgb:
            tiles = [np.clip(np.round(c[i]), 0, 255).astype(np.uint8)
                     for c in columns]
            tiles = [display_rgb(t, bands) for t in tiles]
        else:  # every column stretched as the original
            limits = band_limits(columns[0][i], bands)
            tiles = [display_rgb(c[i], bands, limits) for c in columns]
        rows.append(np.concatenate(tiles, axis=1))
    return np.concatenate(rows, axis=0)


def write_reconstruction(config: str, checkpoint: str, images: str,
                         out: str, num: int = 4, size: int = 224,
                         seed: int = 0, bands: Optional[Sequence[int]] = None,
                         cfg_options: Optional[dict] = None
                         ) -> Tuple[np.ndarray, int]:
    """What tools/misc/visualize_fcmae.py does: the grid of the first
    ``num`` images under the folder ``images`` at ``size`` px, written to
    ``out``. Returns (the grid, how many images).

    Raises:
        ValueError: ``size`` not divisible by the patch size, ``bands``
            the model lacks.
        FileNotFoundError: no images under ``images``.
    """
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from .checkpoint import load_fcmae_checkpoint
    from .utils import list_images, write_via_temp
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.copy()
    model_cfg.pop('init_cfg', None)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    model.init_weights()
    load_fcmae_checkpoint(model, checkpoint)
    if size % model.patch_size:
        raise ValueError(f'--size {size} is not divisible by the patch '
                         f'size {model.patch_size}')
    loader, normalize = pipeline_loading(cfg)
    if loader is None:
        paths = list_images(images)[:num]
        batch = load_images(paths, size)
    else:
        paths = list_images(images, extensions=ANY_IMAGE_EXTENSIONS)[:num]
        batch = load_any_images(paths, size, loader)
    grid = reconstruction_grid(model, batch, seed, bands, normalize)
    write_via_temp(out, Image.fromarray(grid).save)
    return grid, len(paths)
