"""Jimp's greyscale, exact and fast: ``trunc((0.2126 R + 0.7152 G) + 0.0722 B)`` in IEEE double.

The double formula is computed here without doubles. With ``N = 2126 R + 7152 G + 722 B``
(an integer below 2^22, so exact in float32 at every partial sum), the exact grey is
``N / 10000``. Its fractional part is 0 or at least 1e-4, while float32's correctly rounded
``N / 10000`` is off by at most 2^-17 (half an ulp below 256): truncating it gives
``floor(N / 10000)``. The double formula gives the same integer, except that where ``N`` is
a multiple of 10000 its rounding may land just below: 3,384 colours have such an ``N`` and
for 774 of them the double formula says ``k - 1``. Those are found in a table built from the
double formula itself (``_exceptions``), keyed by the whole grey and the red, which together
fix the colour; tests/unit/test_grey.py checks all 2^24 colours.

Everything is element-wise numpy in a fixed order (no BLAS, no fused multiply-add): the
same bits on every CPU. Work goes in blocks of rows whose temporaries stay in cache and
are allocated once per image (a fresh multi-megabyte array per block costs page faults).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = ["GreyMaker", "grey_of_level", "rows_per_block"]

U8 = npt.NDArray[np.uint8]
F32 = np.float32

#: A block has this many pixels, or this many rows if that is more. Its temporaries (about
#: 18 bytes a pixel) bound the memory, 32 rows of a 4000-pixel-wide photo as before, and a
#: narrow frame (a fast-mode decode) takes a few blocks, not dozens of calls. Larger blocks
#: gained nothing and cost fresh pages on every image (their temporaries mapped anew).
PIXELS_PER_BLOCK = 1 << 16
MIN_ROWS_PER_BLOCK = 32

_WEIGHTS = (2126, 7152, 722)
_R, _G, _B = 0.2126, 0.7152, 0.0722
#: A block with more exactly-whole pixels than this share is fixed densely, not pixel by pixel
#: (a quarter: where a 64K-pixel block's two ways cost the same, about 0.12 ms).
_DENSE_SHARE = 4


def _double_grey(
    r: npt.NDArray[np.int64], g: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Jimp's own formula, in double (two products summed, then the third: the JS order)."""
    grey: npt.NDArray[np.int64] = np.trunc((_R * r + _G * g) + _B * b).astype(np.int64)
    return grey


def rows_per_block(width: int) -> int:
    """Rows of a frame ``width`` pixels wide handled at once (``PIXELS_PER_BLOCK``)."""
    return max(MIN_ROWS_PER_BLOCK, PIXELS_PER_BLOCK // width)


@lru_cache(maxsize=1)
def grey_of_level() -> U8:
    """Jimp's grey of the colour (v, v, v) for each v (v or v - 1): a lookup table."""
    v = np.arange(256, dtype=np.int64)
    return _double_grey(v, v, v).astype(np.uint8)


@lru_cache(maxsize=1)
def _exceptions() -> npt.NDArray[np.bool_]:
    """For each ``(k << 8) | R``: whether the colour with red R whose exact grey is the whole
    number k is one the double formula puts at k - 1.

    A whole grey and a red fix the colour: ``7152 G + 722 B = 10000 k - 2126 R`` has at
    most one solution in 0..255, as 3576 and 361 are coprime and 361 > 255. So a pixel
    found whole needs only its grey and its red looked up, not its three channels.
    ``N`` is a multiple of 10000 exactly when ``1063 R + 3576 G + 361 B`` is a multiple
    of 5000; 361 is invertible modulo 5000, so each (R, G) has at most one such B.
    """
    r = np.arange(65536, dtype=np.int64) & 255
    g = np.arange(65536, dtype=np.int64) >> 8
    b = (-(1063 * r + 3576 * g) * pow(361, -1, 5000)) % 5000
    candidate = b <= 255
    rc, gc, bc = r[candidate], g[candidate], b[candidate]
    whole = (2126 * rc + 7152 * gc + 722 * bc) // 10000
    low = _double_grey(rc, gc, bc) < whole
    table = np.zeros(65536, dtype=np.bool_)
    table[(whole[low] << 8) | rc[low]] = True
    return table


class GreyMaker:
    """Jimp's grey of row blocks of one image: ``(rows, width, channels)`` uint8, R, G, B first."""

    def __init__(self, width: int, channels: int) -> None:
        self.width = width
        self.channels = channels
        #: Most rows a block may have.
        self.rows = rows = rows_per_block(width)
        one = np.zeros(channels, dtype=F32)
        one[:3] = _WEIGHTS
        self._weights = np.tile(one, width)
        self._weighted = np.empty((rows, width * channels), dtype=F32)
        self._n = np.empty((rows, width), dtype=F32)
        self._grey = np.empty((rows, width), dtype=np.uint8)
        self._whole = np.empty((rows, width), dtype=np.bool_)

    def __call__(self, rgb: U8, out: U8) -> None:
        """Jimp's grey of ``rgb`` (at most ``self.rows`` rows) into ``out`` ((rows, width) uint8).

        ``out`` may be a strided view, such as a transposed slice of a column-major plane.
        """
        rows = rgb.shape[0]
        weighted = self._weighted[:rows]
        n, grey, whole = self._n[:rows], self._grey[:rows], self._whole[:rows]
        # A contiguous cast and product are far quicker than three strided ones.
        np.copyto(weighted, rgb.reshape(rows, self.width * self.channels))
        weighted *= self._weights
        by_pixel = weighted.reshape(rows, self.width, self.channels)
        np.add(by_pixel[..., 0], by_pixel[..., 1], out=n)
        n += by_pixel[..., 2]  # N, exact: every partial sum is an integer below 2^24
        n /= F32(10000)  # correctly rounded, so truncation gives floor(N / 10000)
        np.copyto(grey, n, casting="unsafe")  # truncates
        # Where N / 10000 is whole (equal to its truncation) the double formula may say one
        # less: look those pixels up. A colour off a whole number never compares equal.
        np.equal(n, grey, out=whole)
        count = int(np.count_nonzero(whole))
        if count:
            self._fix_whole(rgb, grey, whole, count)
        out[...] = grey

    def _fix_whole(self, rgb: U8, grey: U8, whole: npt.NDArray[np.bool_], count: int) -> None:
        table = _exceptions()
        if count * _DENSE_SHARE > whole.size:  # a grey image: every neutral pixel is whole
            key = grey.astype(np.uint16) << 8
            key |= rgb[..., 0]
            low = np.take(table.view(np.uint8), key)  # take is quicker than indexing here
            low &= whole.view(np.uint8)
            grey -= low
            return
        spots = np.flatnonzero(whole)
        key = grey.reshape(-1)[spots].astype(np.intp) << 8
        key |= rgb.reshape(-1, self.channels)[spots, 0]
        low = table[key]
        if low.any():
            grey.reshape(-1)[spots[low]] -= 1
