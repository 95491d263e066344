"""mmconvnextv2.analysis.collapse_taps: the images as the analysis reads
them, and the taps' activations and figures from one forward pass."""
import numpy as np
import pytest
import torch
from PIL import Image

from mmconvnextv2.analysis.collapse_backbones import (CheckpointSpec,
                                                      build_backbone)
from mmconvnextv2.analysis.collapse_taps import (IMAGENET_MEAN, IMAGENET_STD,
                                                 analyse, analyse_taps,
                                                 load_image)
from mmconvnextv2.utils import list_images


def test_images_resized_cropped_normalised(tmp_path, write_images):
    write_images(tmp_path / 'images', 3)
    paths = list_images(str(tmp_path / 'images'))
    Image.new('RGB', (90, 30), (255, 0, 128)).save(tmp_path / 'flat.png')
    x = load_image(str(tmp_path / 'flat.png'), 32)
    assert x.shape == (3, 32, 32)
    want = (torch.tensor([1., 0., 128 / 255]) - torch.tensor(
        [0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    assert torch.allclose(x.mean(dim=(1, 2)), want, atol=1e-2)
    assert Image.open(paths[1]).mode == 'L'
    assert load_image(paths[1], 24).shape == (3, 24, 24)  # grey -> RGB


def test_load_image_is_the_resize_crop_and_normalisation_of_the_analysis(
        tmp_path, write_images):
    """Bit for bit what the analysis has always read: Pillow's bicubic
    resize of the short side, a centre crop, then float32 ImageNet
    normalisation."""
    write_images(tmp_path, 3)
    for path in list_images(str(tmp_path)):
        with Image.open(path) as img:
            img = img.convert('RGB')
            scale = 32 / min(img.size)
            new = (max(32, round(img.width * scale)),
                   max(32, round(img.height * scale)))
            img = img.resize(new, Image.BICUBIC)
            left, top = (new[0] - 32) // 2, (new[1] - 32) // 2
            img = img.crop((left, top, left + 32, top + 32))
            array = np.asarray(img, dtype=np.float32) / 255.
        want = (array - np.array(IMAGENET_MEAN, dtype=np.float32)) / \
            np.array(IMAGENET_STD, dtype=np.float32)
        assert torch.equal(load_image(path, 32),
                           torch.from_numpy(want).permute(2, 0, 1))


def test_taps(tmp_path, write_images, tiny_arch):
    write_images(tmp_path / 'images', 1)
    images = list_images(str(tmp_path / 'images'))
    v1 = build_backbone(tiny_arch, CheckpointSpec('v1', 'random', 'v1'))
    v2 = build_backbone(tiny_arch, CheckpointSpec('v2', 'random'))
    with torch.no_grad():
        for p in v2.parameters():  # GRN not the identity
            p.add_(0.3 * torch.randn_like(p))
    models = dict(v1=v1, v2=v2)
    results = {tap: analyse(models, images, 64, tap, (1, 0), progress=False)
               for tap in ('mlp', 'grn', 'block')}
    # V1 has no GRN: the grn tap is the mlp tap
    assert results['grn'].blocks['v1'] == results['mlp'].blocks['v1']
    assert results['grn'].blocks['v2'] != results['mlp'].blocks['v2']
    # widths: mlp 4C, block C
    assert results['mlp'].grids['v1'].shape == (8, 8, 64)
    assert results['block'].grids['v1'].shape == (8, 8, 16)
    with pytest.raises(ValueError, match='tap must be one of'):
        analyse(models, images, 64, 'gelu', progress=False)
    # all taps from one forward pass: the same numbers and maps
    together = analyse_taps(models, images, 64, ('block', 'mlp', 'grn'),
                            (1, 0), progress=False)
    for tap, result in together.items():
        assert result.blocks == results[tap].blocks
        assert list(result.grids) == ['v1', 'v2']
        for label, grid in result.grids.items():
            assert torch.equal(grid, results[tap].grids[label])
    with pytest.raises(ValueError, match=r'grid block \(5, 0\) is not'):
        analyse(models, images, 64, 'mlp', (5, 0), progress=False)
    assert analyse(models, images, 64, progress=False).grids == {}
