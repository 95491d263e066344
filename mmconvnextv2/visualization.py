"""Pictures of what FCMAE does: original | masked input | reconstruction |
reconstruction with the visible patches pasted back."""
from typing import List, Sequence

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmpretrain.structures import DataSample
from PIL import Image


def load_images(paths: Sequence[str], size: int) -> torch.Tensor:
    """uint8 ``(N, 3, size, size)``: each image resized (short side) and
    centre-cropped, RGB."""
    images = []
    for path in paths:
        img = Image.open(path).convert('RGB')
        scale = size / min(img.size)
        img = img.resize((max(size, round(img.width * scale)),
                          max(size, round(img.height * scale))), Image.BICUBIC)
        left, top = (img.width - size) // 2, (img.height - size) // 2
        img = img.crop((left, top, left + size, top + size))
        images.append(torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1))
    return torch.stack(images)


@torch.no_grad()
def reconstruction_grid(model: torch.nn.Module, images: torch.Tensor,
                        seed: int = 0) -> np.ndarray:
    """An RGB uint8 grid, one row per image, four columns (see module doc).

    Args:
        model: An ``FCMAE`` model with its training data preprocessor
            (training loads BGR images; with ``to_rgb`` the preprocessor
            flips them, so RGB input is flipped to BGR first).
        images: uint8 ``(N, 3, H, W)`` RGB.
        seed: Seed of the random mask.
    """
    model.eval()
    prep = model.data_preprocessor
    # the training pipeline loads BGR and the preprocessor flips to RGB
    bgr = images.flip(1) if getattr(prep, '_channel_conversion', False) else images
    data = prep(default_collate([dict(inputs=img, data_samples=DataSample())
                                 for img in bgr]), training=False)
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
    mean = prep.mean.view(1, -1, 1, 1)
    std = prep.std.view(1, -1, 1, 1)

    def to_uint8(t: torch.Tensor) -> np.ndarray:
        t = (t * std + mean).clamp(0, 255).round().to(torch.uint8)
        return t.permute(0, 2, 3, 1).cpu().numpy()

    columns: List[np.ndarray] = [to_uint8(t) for t in (x, masked_input, recon,
                                                      pasted)]
    rows = [np.concatenate([c[i] for c in columns], axis=1)
            for i in range(x.shape[0])]
    return np.concatenate(rows, axis=0)
