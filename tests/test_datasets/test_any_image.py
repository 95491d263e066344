"""LoadAnyImageFromFile keeps depth and bands; the importer's statistics and
tools/misc/image_stats.py read the same pixels."""
import io
import json
import os.path as osp

import cv2
import mmcv
import numpy as np
import pytest
import tifffile
from helpers.modalities import array_npy, bands_tiff, colour16_png, grey16_tiff
from mmcv.transforms import LoadImageFromFile
from PIL import Image

from mmconvnextv2.datasets import CorruptImageError
from mmconvnextv2.datasets.importers.statistics import (dataset_figures,
                                                        measure_image)
from mmconvnextv2.datasets.transforms import LoadAnyImageFromFile
from mmconvnextv2.datasets.transforms.any_image import to_rgb8
from helpers.tools import load_script

TOOL = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                'tools', 'misc', 'image_stats.py')


def load(path: str, **kwargs) -> np.ndarray:
    results = LoadAnyImageFromFile(**kwargs)(dict(img_path=path,
                                                  sample_idx=7))
    assert results['img_shape'] == results['ori_shape'] == \
        results['img'].shape[:2]
    return results['img']


def one_line_error(path: str, **kwargs) -> str:
    with pytest.raises(CorruptImageError) as info:
        load(path, **kwargs)
    message = str(info.value)
    assert '\n' not in message and path in message and 'index 7' in message
    return message


def test_16_bit_tiff_and_png_keep_every_value(tmp_path):
    path, grey = grey16_tiff(str(tmp_path))
    img = load(path)
    assert img.dtype == np.uint16 and img.shape == (64, 64, 1)
    assert np.array_equal(img, grey) and img.max() > 255
    path, colour = colour16_png(str(tmp_path))
    img = load(path)
    assert img.dtype == np.uint16
    # 3 channels come in BGR, as mmcv gives colour images
    assert np.array_equal(img, colour[..., ::-1])


@pytest.mark.parametrize('planar', [False, True])
def test_float_bands_tiff_and_npy(tmp_path, planar):
    path, bands = bands_tiff(str(tmp_path), planar=planar)
    img = load(path)
    assert img.dtype == np.float32 and np.array_equal(img, bands)
    path, array = array_npy(str(tmp_path), bands=16)
    assert np.array_equal(load(path), array)
    assert np.array_equal(load(path, channels=[15, 0]), array[..., [15, 0]])


def test_big_endian_files_come_in_native_order(tmp_path):
    values = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    path = str(tmp_path / 'motorola.tif')
    tifffile.imwrite(path, values, byteorder='>')
    img = load(path)
    assert img.dtype == np.dtype('=u2') and img.dtype.isnative
    assert np.array_equal(img[..., 0], values)
    npy = str(tmp_path / 'big.npy')
    np.save(npy, values.astype('>f4'))
    assert load(npy).dtype.isnative


def test_multi_page_tiff_stacks_pages_as_bands(tmp_path):
    path = str(tmp_path / 'pages.tif')
    pages = np.arange(5 * 6 * 7, dtype=np.uint16).reshape(5, 6, 7)
    with tifffile.TiffWriter(path) as tif:
        for page in pages:  # five separate single-band pages
            tif.write(page, photometric='minisblack', contiguous=False)
    assert np.array_equal(load(path), np.moveaxis(pages, 0, 2))


def test_eight_bit_rgb_is_what_the_stock_loader_gives(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), np.uint8)
    turned = str(tmp_path / 'turned.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6  # decoded turned by 90 degrees
    Image.fromarray(rgb).save(turned, exif=exif)
    tiff = str(tmp_path / 'rgb.tif')
    Image.fromarray(rgb).save(tiff)
    lzw = str(tmp_path / 'lzw.tif')  # a codec tifffile lacks: OpenCV reads
    Image.fromarray(rgb).save(lzw, compression='tiff_lzw')
    for path in (turned, tiff, lzw):
        stock = LoadImageFromFile()(dict(img_path=path))['img']
        assert np.array_equal(load(path), stock), path
        assert np.array_equal(load(path, to_rgb8=True), stock), path
    grey = str(tmp_path / 'grey.png')
    Image.fromarray(rgb[..., 0]).save(grey)
    assert load(grey).shape == (20, 30, 1)  # not three equal channels
    stock = LoadImageFromFile()(dict(img_path=grey))['img']
    assert np.array_equal(load(grey, to_rgb8=True), stock)


def test_to_rgb8_only_when_asked(tmp_path):
    path, colour = colour16_png(str(tmp_path))
    # as OpenCV's (mmcv's) 8-bit decoding of the same file
    assert np.array_equal(load(path, to_rgb8=True), mmcv.imread(path))
    assert np.array_equal(to_rgb8(np.array([[[0., .5, 2.]]])),
                          [[[0, 128, 255]]])
    assert np.array_equal(to_rgb8(np.full((1, 1, 1), 65535, np.uint16)),
                          [[[255, 255, 255]]])
    path, _ = bands_tiff(str(tmp_path), bands=2)
    assert 'to_rgb8 needs 1 or at least 3 channels, the image has 2' in \
        one_line_error(path, to_rgb8=True)


def test_unreadable_files_are_named_in_one_line(tmp_path):
    broken = str(tmp_path / 'broken.tif')
    with open(broken, 'wb') as f:
        f.write(b'II*\x00' + b'\x00' * 20)
    one_line_error(broken)
    assert 'no such file' in one_line_error(str(tmp_path / 'gone.png'))
    assert LoadAnyImageFromFile(ignore_empty=True)(
        dict(img_path=str(tmp_path / 'gone.png'))) is None
    pickled = str(tmp_path / 'objects.npy')
    np.save(pickled, np.array([{'a': 1}], dtype=object), allow_pickle=True)
    assert 'pickle' in one_line_error(pickled).lower()
    flat = str(tmp_path / 'flat.npy')
    np.save(flat, np.zeros(5))
    assert 'must be (H, W) or (H, W, C)' in one_line_error(flat)
    path, _ = bands_tiff(str(tmp_path))
    assert 'channels [4] asked, the image has 4 channel(s)' in \
        one_line_error(path, channels=[4])
    with pytest.raises(ValueError, match='channels must be'):
        LoadAnyImageFromFile(channels=[])


def test_registered_for_every_library():
    from mmdet.registry import TRANSFORMS as DET
    from mmpretrain.registry import TRANSFORMS as PRETRAIN
    from mmseg.registry import TRANSFORMS as SEG
    for registry in (DET, PRETRAIN, SEG):
        built = registry.build(dict(type='LoadAnyImageFromFile',
                                    channels=[0]))
        assert isinstance(built, LoadAnyImageFromFile)


def test_statistics_per_channel_for_any_depth(tmp_path):
    path, bands = bands_tiff(str(tmp_path), bands=5)
    info = measure_image(path)
    assert (info.channels, info.dtype, info.width) == (5, 'float32', 64)
    figures = dataset_figures([info], [info])
    assert figures['channels'] == 5
    assert np.allclose(figures['mean'], bands.mean((0, 1)), atol=1e-5)
    assert np.allclose(figures['std'], bands.std((0, 1)), atol=1e-5)
    grey_path, grey = grey16_tiff(str(tmp_path))
    grey_info = measure_image(grey_path)
    assert grey_info.dtype == 'uint16'
    assert dataset_figures([grey_info], [grey_info])['mean'] == [
        round(float(grey.mean()), 3)]
    with pytest.raises(ValueError, match='the images have 1 and 5 channels'):
        dataset_figures([info, grey_info], [info])


def test_image_stats_tool(tmp_path, capsys):
    tool = load_script(TOOL)
    folder = tmp_path / 'frames'
    (folder / 'sub').mkdir(parents=True)
    _, a = array_npy(str(folder), 'a.npy', bands=4, seed=1)
    _, b = bands_tiff(str(folder / 'sub'), 'b.TIF', bands=4, seed=2)
    out = str(tmp_path / 'stats.json')
    tool.main([str(folder), '--out', out])
    printed = json.loads(capsys.readouterr().out)
    with open(out) as f:
        assert json.load(f) == printed
    both = np.concatenate([a.reshape(-1, 4), b.reshape(-1, 4)])
    assert printed['count'] == 2 and printed['channels'] == 4
    assert np.allclose(printed['mean'], both.mean(0), rtol=1e-5)
    assert np.allclose(printed['std'], both.std(0), rtol=1e-5)
    grey16_tiff(str(folder))  # one band among four-band images
    with pytest.raises(SystemExit, match='error: the images have 1 and 4'):
        tool.main([str(folder)])
    broken = folder / 'x.png'
    broken.write_bytes(b'not a png')
    with pytest.raises(SystemExit, match=f'cannot read image {broken}'):
        tool.main([str(folder)])


def test_encoded_bytes_from_memory_decode_too():
    """The transform reads through mmengine's file backends: bytes, not a
    path, are decoded (as for remote files)."""
    from mmconvnextv2.datasets.transforms.any_image import decode_any_image
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.full((3, 4), 9, np.uint16))
    assert decode_any_image(buffer.getvalue(), 's3://b/x.TIFF').shape == (
        3, 4, 1)
    ok, png = cv2.imencode('.png', np.full((3, 4), 300, np.uint16))
    assert decode_any_image(png.tobytes(), 'x.png').max() == 300
