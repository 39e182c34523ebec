"""The bits of each hash algorithm, computed from a grey thumbnail (numpy).

The registry that names them is ``_algorithms``; the thumbnails come from the
profile (``_pixels``). Only pHash's threshold differs between profiles.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from ._hashvalue import Hash

__all__ = ["average_hash", "difference_hash", "perceptual_hash"]

Thumb = npt.NDArray[np.uint8]


def _pack(bits: npt.NDArray[np.bool_]) -> Hash:
    return Hash(int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big"))


def average_hash(thumb: Thumb, profile: str) -> Hash:
    """aHash (Krawetz, "Looks Like It", 2011): 8x8 grey, bit = pixel > mean."""
    return _pack(thumb > thumb.mean())


def difference_hash(thumb: Thumb, profile: str) -> Hash:
    """dHash (Krawetz, "Kind of Like That", 2013): 9x8 grey, bit = right pixel > left pixel."""
    return _pack(thumb[:, 1:] > thumb[:, :-1])


@lru_cache(maxsize=4)
def _dct_matrix(n: int) -> npt.NDArray[np.float64]:
    """Unnormalised DCT-II basis: row u holds cos(pi * (2x + 1) * u / (2n))."""
    u = np.arange(n, dtype=np.float64)[:, None]
    x = np.arange(n, dtype=np.float64)[None, :]
    return np.cos(np.pi * (2 * x + 1) * u / (2 * n))


def _dct_columns(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Unnormalised DCT-II of each column.

    The AC basis rows sum to zero, so they are applied to the column minus its
    first value: a constant column then gives exact zeros (as FFT-based DCTs
    such as scipy's do) instead of rounding noise that would decide bits.
    """
    out: npt.NDArray[np.float64] = _dct_matrix(values.shape[0]) @ (values - values[0])
    out[0] = values.sum(axis=0)
    return out


def perceptual_hash(thumb: Thumb, profile: str) -> Hash:
    """pHash (Zauner, "Implementation and Benchmarking of Perceptual Image Hash Functions", 2010).

    32x32 grey, 2-D DCT-II, top-left 8x8 block of low frequencies.
    ``jimp``: threshold = median of the 63 AC coefficients (the 32nd smallest), DC bit 0.
    ``imagehash``: threshold = median of all 64 (numpy's), DC included, as imagehash 4.3 does.
    """
    coefficients = _dct_columns(_dct_columns(thumb.astype(np.float64)).T).T[:8, :8]
    if profile == "imagehash":
        return _pack(coefficients > np.median(coefficients))
    flat = coefficients.ravel()
    threshold = np.sort(flat[1:])[31]
    bits = flat > threshold
    bits[0] = False
    return _pack(bits)
