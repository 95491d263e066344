"""Shared by the studies' tests: a tiny ConvNeXt arch and a folder of
small images."""
import numpy as np
import pytest
from PIL import Image

TINY_ARCH = dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32])


@pytest.fixture
def tiny_arch() -> dict:
    """Four stages of 1, 1, 2 and 1 blocks, 8 to 32 channels."""
    return dict(TINY_ARCH)


@pytest.fixture
def write_images():
    """``write_images(folder, count)``: RGB and grey images of odd sizes
    (names out of creation order) and a text file; returns the image names,
    sorted."""
    return _write_images


def _write_images(folder, count=3):
    """RGB and grey images of odd sizes (names out of creation order)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = []
    for i in range(count):
        size = (40 + 13 * i, 64 - 7 * i)
        array = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        img = Image.fromarray(array)
        if i == 1:
            img = img.convert('L')
        name = f'img_{count - i:02d}.png'
        img.save(folder / name)
        names.append(name)
    (folder / 'notes.txt').write_text('not an image')
    return sorted(names)
