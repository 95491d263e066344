"""Drawing an image of any band count and depth as 8-bit RGB.

Inference drawings, FCMAE reconstruction grids and the quickstart's
pictures show an image through :func:`display_rgb`: one band drawn as grey,
or three bands drawn as red, green and blue (by default the first three,
or the first band alone for an image of one or two bands). 8-bit bands are
drawn as stored; any other band is stretched to 0..255 between its
:data:`DISPLAY_PERCENTILES` (1st and 99th percentile of its finite values),
so that a 16-bit frame or a float band of any scale reads. Values outside
the range are clipped, non-finite ones drawn black, a constant band black.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = ['DISPLAY_PERCENTILES', 'parse_bands', 'display_bands',
           'band_limits', 'display_rgb']

#: The percentiles of a band drawn as 0 and 255.
DISPLAY_PERCENTILES = (1.0, 99.0)

Limits = Tuple[np.ndarray, np.ndarray]


def parse_bands(text: Optional[str]) -> Optional[Tuple[int, ...]]:
    """``'3,2,1'`` -> ``(3, 2, 1)`` (an option's value; None stays None).

    Raises:
        ValueError: Not one or three non-negative integers.
    """
    if text is None:
        return None
    try:
        bands = tuple(int(part) for part in str(text).split(','))
    except ValueError:
        bands = ()
    if len(bands) not in (1, 3) or min(bands) < 0:
        raise ValueError(f'--bands {text!r}: give one band index (drawn as '
                         'grey) or three (red, green, blue), e.g. 3,2,1')
    return bands


def display_bands(count: int,
                  bands: Optional[Sequence[int]] = None) -> Tuple[int, ...]:
    """The bands of a ``count``-band image that are drawn: ``bands``, or the
    first three (the first one for fewer than three bands).

    Raises:
        ValueError: Not one or three bands, or one past the image's.
    """
    if bands is None:
        return (0, 1, 2) if count >= 3 else (0, )
    bands = tuple(int(b) for b in bands)
    if len(bands) not in (1, 3):
        raise ValueError(f'bands {list(bands)}: draw one band (grey) or '
                         'three (red, green, blue)')
    wrong = [b for b in bands if not 0 <= b < count]
    if wrong:
        raise ValueError(f'bands {list(bands)} asked, the image has {count} '
                         f'band(s) (0..{count - 1})')
    return bands


def _hwc(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., None] if pixels.ndim == 2 else pixels


def band_limits(pixels: np.ndarray, bands: Optional[Sequence[int]] = None,
                percentiles: Sequence[float] = DISPLAY_PERCENTILES
                ) -> Limits:
    """Per drawn band of ``(H, W, C)`` (or ``(H, W)``) ``pixels``, the values
    drawn as 0 and as 255: ``(low, high)``, float64 arrays. An 8-bit band's
    are 0 and 255 (drawn as stored)."""
    pixels = _hwc(pixels)
    chosen = display_bands(pixels.shape[2], bands)
    low, high = np.zeros(len(chosen)), np.full(len(chosen), 255.)
    if pixels.dtype == np.uint8:
        return low, high
    for i, band in enumerate(chosen):
        values = pixels[..., band]
        values = values[np.isfinite(values)] if values.dtype.kind == 'f' \
            else values.ravel()
        if values.size:
            low[i], high[i] = np.percentile(values.astype(np.float64),
                                            percentiles)
        else:
            low[i] = high[i] = 0.
    return low, high


def display_rgb(pixels: np.ndarray, bands: Optional[Sequence[int]] = None,
                limits: Optional[Limits] = None) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB of ``(H, W, C)`` (or ``(H, W)``) ``pixels``,
    any dtype: the drawn bands (see the module doc), each stretched between
    ``limits`` (default: :func:`band_limits` of ``pixels``; give the
    original's to draw several images of it alike)."""
    pixels = _hwc(pixels)
    chosen = display_bands(pixels.shape[2], bands)
    if limits is None:
        limits = band_limits(pixels, chosen)
    low, high = (np.asarray(v, dtype=np.float64) for v in limits)
    out = np.zeros(pixels.shape[:2] + (len(chosen), ), np.uint8)
    for i, band in enumerate(chosen):
        values = pixels[..., band]
        if pixels.dtype == np.uint8 and (low[i], high[i]) == (0., 255.):
            out[..., i] = values
            continue
        span = high[i] - low[i]
        if span <= 0:
            continue  # a constant band: black
        scaled = (values.astype(np.float64) - low[i]) / span
        scaled = np.nan_to_num(scaled, nan=0., posinf=0., neginf=0.)
        out[..., i] = np.round(np.clip(scaled, 0., 1.) * 255.)
    if out.shape[2] == 1:
        out = np.repeat(out, 3, axis=2)
    return np.ascontiguousarray(out)
