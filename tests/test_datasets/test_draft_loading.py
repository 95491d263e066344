"""DraftLoadImageFromFile: JPEGs decoded at the crop's scale (the scale no
RandomResizedCrop crop falls below), the same image as the full decode
shrunk, and the full decode for everything else."""
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from PIL import Image

from mmconvnextv2.datasets.transforms import (CorruptImageError,
                                              DraftLoadImageFromFile)
from mmconvnextv2.datasets.transforms.draft_loading import draft_scale


def _picture(width: int, height: int) -> np.ndarray:
    """RGB uint8: smooth gradients, red above green above blue, mild noise."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    wave = np.sin(x / 37.) * np.cos(y / 23.)
    rgb = np.stack([170 + 40 * wave, 110 + 30 * x / width,
                    60 + 30 * y / height], -1)
    return np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope='module')
def frames(tmp_path_factory):
    folder = tmp_path_factory.mktemp('frames')
    big = Image.fromarray(_picture(1024, 768))
    paths = dict(jpeg=folder / 'big.jpg', png_named_jpg=folder / 'png.jpg',
                 small=folder / 'small.jpg', rotated=folder / 'rotated.jpg',
                 broken=folder / 'broken.jpg')
    big.save(paths['jpeg'], quality=95)
    big.save(paths['png_named_jpg'], format='PNG')
    Image.fromarray(_picture(200, 150)).save(paths['small'], quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    big.save(paths['rotated'], quality=95, exif=exif)
    paths['broken'].write_bytes(b'\xff\xd8\xff' + b'not a jpeg' * 20)
    return {k: str(v) for k, v in paths.items()}


def _load(transform, path: str) -> dict:
    return transform(dict(img_path=path, sample_idx=3))


def _shrunk(img: np.ndarray, shape) -> np.ndarray:
    """A BGR image box-filtered to ``(h, w)``."""
    rgb = Image.fromarray(np.ascontiguousarray(img[:, :, ::-1]))
    return np.asarray(rgb.resize((shape[1], shape[0]), Image.BOX))[:, :, ::-1]


def test_scale_is_the_coarsest_that_keeps_every_crop_at_the_output_size():
    assert draft_scale(1920, 1080, 128, (0.2, 1.0)) == 4
    assert draft_scale(1920, 1080, 224, (0.2, 1.0)) == 2
    assert draft_scale(1920, 1080, (128, 128), (0.08, 1.0)) == 2
    assert draft_scale(320, 180, 128, (0.2, 1.0)) == 1
    assert draft_scale(1000, 20000, 64, (0.2, 1.0)) == 8  # central fallback


def _crop_sides(width: int, height: int, scale: int, crop,
                ratio) -> np.ndarray:
    """``(h, w)`` of 300 crops of mmpretrain's RandomResizedCrop on an image
    decoded at 1/``scale``."""
    from mmpretrain.datasets.transforms import RandomResizedCrop
    cropper = RandomResizedCrop(scale=crop, crop_ratio_range=ratio)
    reduced = np.zeros((-(-height // scale), -(-width // scale), 1), np.uint8)
    np.random.seed(0)
    return np.array([cropper.rand_crop_params(reduced)[2:]
                     for _ in range(300)])


@pytest.mark.parametrize('size,crop,ratio', [
    ((1920, 1080), 128, (0.2, 1.0)), ((1920, 1080), 224, (0.08, 1.0)),
    ((1000, 20000), 64, (0.2, 1.0)), ((4000, 3000), (192, 320), (0.3, 1.0))])
def test_no_crop_of_the_reduced_image_is_smaller_than_the_output(
        size, crop, ratio):
    out_h, out_w = (crop, crop) if isinstance(crop, int) else crop
    scale = draft_scale(*size, crop, ratio)
    sides = _crop_sides(*size, scale, crop, ratio)
    assert sides[:, 0].min() >= out_h and sides[:, 1].min() >= out_w
    if scale < 8:  # the next coarser scale would shrink some crop below it
        coarser = _crop_sides(*size, scale * 2, crop, ratio)
        assert coarser[:, 0].min() < out_h or coarser[:, 1].min() < out_w


def test_jpeg_is_decoded_reduced_and_matches_the_full_decode_shrunk(frames):
    draft = DraftLoadImageFromFile(crop_size=64, crop_ratio_range=(0.2, 1.))
    loaded = _load(draft, frames['jpeg'])
    full = _load(LoadImageFromFile(), frames['jpeg'])['img']
    img = loaded['img']
    assert loaded['decode_scale'] == 4
    assert img.shape == (192, 256, 3) and img.dtype == np.uint8
    assert loaded['img_shape'] == loaded['ori_shape'] == (192, 256)
    # BGR as mmcv loads: red (the brightest channel) last
    assert img[..., 2].mean() > img[..., 1].mean() > img[..., 0].mean()
    diff = np.abs(img.astype(int) - _shrunk(full, img.shape[:2])).mean()
    assert diff < 3


def test_exif_orientation_is_applied_as_mmcv_does(frames):
    draft = DraftLoadImageFromFile(crop_size=64, crop_ratio_range=(0.2, 1.))
    img = _load(draft, frames['rotated'])['img']
    full = _load(LoadImageFromFile(), frames['rotated'])['img']
    assert full.shape == (1024, 768, 3) and img.shape == (256, 192, 3)
    assert np.abs(img.astype(int) - _shrunk(full, img.shape[:2])).mean() < 3


@pytest.mark.parametrize('name', ['png_named_jpg', 'small'])
def test_full_decode_where_nothing_can_be_reduced(frames, name):
    draft = DraftLoadImageFromFile(crop_size=64, crop_ratio_range=(0.2, 1.))
    loaded = _load(draft, frames[name])
    assert loaded['decode_scale'] == 1
    np.testing.assert_array_equal(
        loaded['img'], _load(LoadImageFromFile(), frames[name])['img'])


def test_other_colour_types_and_float_are_loaded_as_mmcv_does(frames):
    grey = _load(DraftLoadImageFromFile(crop_size=64, color_type='grayscale'),
                 frames['jpeg'])
    assert grey['decode_scale'] == 1 and grey['img'].shape == (768, 1024)
    floats = _load(DraftLoadImageFromFile(crop_size=64, to_float32=True),
                   frames['jpeg'])
    assert floats['img'].dtype == np.float32 and floats['decode_scale'] == 2


def test_an_undecodable_jpeg_gets_the_checked_loaders_error(frames):
    draft = DraftLoadImageFromFile(crop_size=64)
    with pytest.raises(CorruptImageError, match=r'broken\.jpg.*index 3'):
        _load(draft, frames['broken'])


def test_registered_and_feeds_the_crop(frames):
    from mmengine.dataset import Compose
    pipeline = Compose([
        dict(type='DraftLoadImageFromFile', crop_size=64,
             crop_ratio_range=(0.2, 1.0)),
        dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.0),
             backend='pillow', interpolation='bicubic')])
    out = pipeline(dict(img_path=frames['jpeg']))
    assert out['img'].shape == (64, 64, 3) and out['decode_scale'] == 4
