"""AnyChannelRandomErasing: the parent's patches, filled in the image's own
channels and dtype; wrong value counts refused in one line."""
import numpy as np
import pytest

from mmconvnextv2.datasets.transforms import AnyChannelRandomErasing


def _erase(img: np.ndarray, **kwargs) -> np.ndarray:
    np.random.seed(0)
    step = AnyChannelRandomErasing(erase_prob=1.0, min_area_ratio=0.2,
                                   max_area_ratio=0.3, **kwargs)
    return step(dict(img=img.copy()))['img']


def test_const_fill_per_channel_keeps_dtype():
    img = np.full((40, 50, 4), 7, np.uint16)
    out = _erase(img, mode='const', fill_color=[1000, 2000, 3000, 70000])
    assert out.dtype == np.uint16 and out.shape == img.shape
    erased = out[..., 0] != 7
    assert 0.15 < erased.mean() < 0.35  # the parent's patch
    assert {tuple(v) for v in out[erased]} == {(1000, 2000, 3000, 65535)}
    assert (out[~erased] == 7).all()


def test_normal_fill_around_the_means_and_uniform_in_the_image_range():
    img = np.zeros((64, 64, 2), np.float32)
    img[0, 0] = 5.
    out = _erase(img, mode='rand', fill_color=[100., -100.],
                 fill_std=[1., 1.])
    erased = out[..., 0] != 0
    assert abs(out[erased][:, 0].mean() - 100) < 1
    assert abs(out[erased][:, 1].mean() + 100) < 1
    grey = _erase(np.full((64, 64), 9, np.uint16) * np.uint16(3),
                  mode='rand', fill_color=0)
    assert grey.ndim == 2 and grey.dtype == np.uint16
    # no fill_std: uniform between the image's own minimum and maximum
    img = np.linspace(10, 20, 64 * 64).reshape(64, 64, 1).astype(np.float32)
    out = _erase(img, mode='rand')
    assert out.min() >= 10 and out.max() <= 20 and not (out == img).all()


def test_wrong_value_counts_refused_in_one_line():
    with pytest.raises(ValueError) as err:
        _erase(np.zeros((32, 32, 4), np.uint8), mode='const',
               fill_color=[1, 2, 3])
    assert str(err.value) == ('AnyChannelRandomErasing: 3 fill_color values '
                              'for an image of 4 channel(s)')
    with pytest.raises(ValueError, match='fill_std must be a number'):
        AnyChannelRandomErasing(fill_std=['a'])
