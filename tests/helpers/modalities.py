"""Small image files of other modalities than 8-bit RGB, written by the
tests themselves: 1-band 16-bit TIFF, 4-band float32 TIFF, 16-bit PNG and
``.npy``; each writer returns the path and the pixels it stored (HWC).
Also the training step the C-channel model tests take."""
import os.path as osp
from typing import Tuple

import cv2
import numpy as np
import tifffile
import torch
from mmengine.optim import OptimWrapper

Written = Tuple[str, np.ndarray]


def grey16_tiff(folder: str, name: str = 'grey16.tif', size: int = 64,
                seed: int = 0) -> Written:
    """One band of 16-bit values over the whole range (above 255 too)."""
    pixels = np.random.default_rng(seed).integers(
        0, 65536, (size, size, 1), dtype=np.uint16)
    path = osp.join(folder, name)
    tifffile.imwrite(path, pixels[..., 0])
    return path, pixels


def bands_tiff(folder: str, name: str = 'bands.tif', size: int = 64,
               bands: int = 4, seed: int = 0,
               planar: bool = False) -> Written:
    """``bands`` float32 bands, stored pixel-interleaved or band by band."""
    pixels = np.random.default_rng(seed).normal(
        size=(size, size, bands)).astype(np.float32)
    path = osp.join(folder, name)
    if planar:
        tifffile.imwrite(path, np.moveaxis(pixels, 2, 0),
                         photometric='minisblack', planarconfig='separate')
    else:
        tifffile.imwrite(path, pixels, photometric='minisblack',
                         planarconfig='contig')
    return path, pixels


def colour16_png(folder: str, name: str = 'colour16.png', size: int = 64,
                 seed: int = 0) -> Written:
    """A 16-bit colour PNG; the pixels returned in RGB order."""
    pixels = np.random.default_rng(seed).integers(
        0, 65536, (size, size, 3), dtype=np.uint16)
    path = osp.join(folder, name)
    assert cv2.imwrite(path, pixels[..., ::-1])  # OpenCV writes BGR
    return path, pixels


def array_npy(folder: str, name: str = 'array.npy', size: int = 64,
              bands: int = 4, seed: int = 0) -> Written:
    """A float32 ``(H, W, bands)`` array."""
    pixels = np.random.default_rng(seed).random(
        (size, size, bands)).astype(np.float32)
    path = osp.join(folder, name)
    np.save(path, pixels)
    return path, pixels


def stem_learning_step(model: torch.nn.Module, batch: dict,
                       lr: float = 0.1) -> dict:
    """One ``train_step`` of a ConvNeXt V2 ``model`` with SGD; asserts that
    the losses are finite and that the stem's weights change. The losses."""
    stem = model.backbone.downsample_layers[0][0].weight
    before = stem.detach().clone()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr))
    losses = model.train_step(batch, optim)
    assert all(torch.isfinite(v) for v in losses.values()), losses
    assert not torch.equal(stem.detach(), before)  # the C-channel stem learns
    return losses
