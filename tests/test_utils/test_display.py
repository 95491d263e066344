"""The display helper of C-channel images, value for value: the bands
drawn, the percentile stretch per band, 8-bit bands as stored, grey as
grey, non-finite and constant bands black, shared limits, and the one-line
refusals of bands that are not one or three of the image's."""
import re

import numpy as np
import pytest

from mmconvnextv2.utils.display import (band_limits, display_bands,
                                        display_rgb, parse_bands)


def test_percentile_stretch_value_for_value():
    # band 0: 0, 100, 200, 300 -> 1st / 99th percentiles 3 and 297
    # band 1: constant -> black; band 2: 10 x band 0; band 3: 0..3
    band0 = np.array([[0, 100], [200, 300]], np.uint16)
    pixels = np.stack([band0, np.full((2, 2), 7, np.uint16), band0 * 10,
                       np.array([[0, 1], [2, 3]], np.uint16)], axis=2)
    low, high = band_limits(pixels)
    np.testing.assert_allclose(low, [3., 7., 30.])
    np.testing.assert_allclose(high, [297., 7., 2970.])
    rgb = display_rgb(pixels)
    # (v - 3) / 294 * 255, rounded: 0 -> 0 (clipped), 100 -> 84,
    # 200 -> 171, 300 -> 255 (clipped)
    stretched = np.array([[0, 84], [171, 255]], np.uint8)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    np.testing.assert_array_equal(rgb[..., 0], stretched)
    np.testing.assert_array_equal(rgb[..., 1], np.zeros((2, 2)))
    np.testing.assert_array_equal(rgb[..., 2], stretched)
    # bands chosen: 3, 0, 3 (0..3 -> 0.03..2.97)
    np.testing.assert_array_equal(
        display_rgb(pixels, (3, 0, 3))[..., 0],
        [[0, 84], [171, 255]])


def test_grey_float_uint8_and_shared_limits():
    grey = np.array([[0., 0.5], [np.nan, 1.]], np.float32)[..., None]
    rgb = display_rgb(grey)
    # finite values 0, 0.5, 1 -> percentiles 0.01, 0.99; NaN drawn black
    expected = np.array([[0, 128], [0, 255]], np.uint8)
    for channel in range(3):  # grey drawn as grey
        np.testing.assert_array_equal(rgb[..., channel], expected)
    np.testing.assert_array_equal(display_rgb(grey[..., 0]), rgb)  # (H, W)
    colour = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    np.testing.assert_array_equal(display_rgb(colour), colour)  # as stored
    np.testing.assert_array_equal(display_rgb(colour, (2, 1, 0)),
                                  colour[..., ::-1])
    # another image drawn with the limits of the first: alike
    limits = (np.array([0.]), np.array([2.]))
    np.testing.assert_array_equal(
        display_rgb(np.array([[[1.]], [[3.]]]), limits=limits)[..., 0],
        [[128], [255]])


def test_bands_refused_in_one_line():
    assert display_bands(1) == (0, ) and display_bands(2) == (0, )
    assert display_bands(13) == (0, 1, 2)
    assert parse_bands('3,2,1') == (3, 2, 1) and parse_bands('0') == (0, )
    assert parse_bands(None) is None
    for text in ('3,2', 'a,b,c', '-1,0,1', ''):
        with pytest.raises(ValueError, match=r"^--bands .*: give one band "
                           r'index \(drawn as grey\) or three'):
            parse_bands(text)
    with pytest.raises(ValueError, match=re.escape(
            'bands [0, 4, 1] asked, the image has 4 band(s) (0..3)')):
        display_rgb(np.zeros((2, 2, 4), np.float32), (0, 4, 1))
    with pytest.raises(ValueError, match=re.escape(
            'bands [0, 1]: draw one band (grey) or three')):
        display_bands(4, (0, 1))
