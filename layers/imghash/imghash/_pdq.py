"""PDQ, Meta's 256-bit perceptual hash with a quality score, in numpy.

Defined in "The TMK+PDQF and PDQ hashing algorithms" (facebook/ThreatExchange,
``hashing/hashing.pdf``); the values are those of its C++ reference
(``pdq/cpp/hashing/pdqhashing.cpp``), bit for bit, as wrapped by the PyPI package
``pdqhash``, which the tests use as the oracle:

1. luminance ``0.299 R + 0.587 G + 0.114 B``, evaluated as ``pdqhash`` does (in
   double, left to right, then rounded to float32);
2. two rounds of Jarosz box filters and decimation to 64x64 (``_pdq_downscale``);
3. quality: the sum of quantised gradients of the 64x64 image, over 90, at most 100;
4. the 16x16 lowest non-constant frequencies of its 2-D DCT-II (float32);
5. bit ``16 i + j`` = coefficient (i, j) above the median, the 128th smallest of 256.

Every step that decides a bit is element-wise float32 numpy in the reference's
order of operations (no matrix products, no FFT), so the bits are the same on
every CPU. A hash is an ``int`` here: bit k is ``1 << k``, so ``f"{h:064x}"`` is
the reference's hex form.
"""

from __future__ import annotations

import math
from functools import cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ._pdq_downscale import SIDE, downscale

__all__ = [
    "DIHEDRAL",
    "PdqHash",
    "dct_dihedral",
    "pdq_dihedral",
    "pdq_dihedral_luma",
    "pdq_hash",
    "pdq_hash_luma",
    "pdq_luma",
]

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]

#: Coefficients kept per side: frequencies 1 to 16 (the constant term is left out).
_FREQUENCIES = 16
#: Images narrower or shorter than this hash to 0 with quality 0 (MIN_HASHABLE_DIM).
MIN_SIDE = 5
#: The eight orientations, in the order of the reference's dihedral hashes
#: (``pdqDihedralHash256esFromFloatLuma``) and ``pdqhash.compute_dihedral``.
DIHEDRAL = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
)
#: Rows of luminance converted per block: the float64 temporaries stay in the cache.
_LUMA_BLOCK = 64


class PdqHash(NamedTuple):
    """A PDQ hash (256 bits as an int, bit k = ``1 << k``) and its quality, 0 to 100."""

    value: int
    quality: int


def pdq_luma(rgb: U8) -> F32:
    """The float32 luminance PDQ hashes, from an 8-bit RGB array (height, width, 3).

    ``(0.299 R + 0.587 G) + 0.114 B`` in double, rounded to float32: what
    ``pdqhash`` computes (the C++ command-line tool rounds after every step in
    float32 instead, and so differs from it in the last bit of a few pixels).
    """
    rows, cols = rgb.shape[:2]
    luma = np.empty((rows, cols), dtype=np.float32)
    one = np.empty((min(rows, _LUMA_BLOCK), cols), dtype=np.float64)
    two = np.empty_like(one)
    for start in range(0, rows, _LUMA_BLOCK):
        block = rgb[start : start + _LUMA_BLOCK]
        a, b = one[: len(block)], two[: len(block)]
        np.multiply(block[..., 0], 0.299, out=a)
        np.multiply(block[..., 1], 0.587, out=b)
        np.add(a, b, out=a)
        np.multiply(block[..., 2], 0.114, out=b)
        np.add(a, b, out=a)
        luma[start : start + len(block)] = a
    return luma


def pdq_hash(rgb: U8) -> PdqHash:
    """PDQ hash and quality of an 8-bit RGB array (height, width, 3), as ``pdqhash.compute``."""
    return pdq_hash_luma(pdq_luma(rgb))


def pdq_hash_luma(luma: F32) -> PdqHash:
    """PDQ hash and quality of a float32 luma plane (rows, cols): ``pdqHash256FromFloatLuma``."""
    if min(luma.shape) < MIN_SIDE:
        return PdqHash(0, 0)
    # A 64x64 plane is taken as already downscaled (as for video frames); only
    # this entry point does so, the dihedral one filters it like any other size.
    small = luma if luma.shape == (SIDE, SIDE) else downscale(luma)
    return PdqHash(_bits(_dct(small)), _quality(small))


def pdq_dihedral(rgb: U8) -> list[PdqHash]:
    """The eight dihedral hashes of an RGB array, in ``DIHEDRAL`` order, as ``compute_dihedral``.

    Entry k is the hash the image would have if turned by ``DIHEDRAL[k]`` first.
    """
    return pdq_dihedral_luma(pdq_luma(rgb))


def pdq_dihedral_luma(luma: F32) -> list[PdqHash]:
    """The eight dihedral hashes of a luma plane: ``pdqDihedralHash256esFromFloatLuma``."""
    if min(luma.shape) < MIN_SIDE:
        return [PdqHash(0, 0)] * len(DIHEDRAL)
    small = downscale(luma)
    quality = _quality(small)
    return [PdqHash(_bits(c), quality) for c in dct_dihedral(_dct(small), first_frequency=1)]


def dct_dihedral(coefficients: F32, first_frequency: int) -> list[F32]:
    """A square block of 2-D DCT-II coefficients as it would be for each orientation in DIHEDRAL.

    Turning an image only transposes its DCT and flips the sign of odd frequencies,
    so one transform serves all eight (the reference's ``dct16OriginalTo*``).
    ``first_frequency`` is the frequency of row and column 0: 1 for PDQ, which
    leaves out the constant term, 0 for a DCT that keeps it (pHash). Exact: only
    signs and positions change.
    """
    size = coefficients.shape[0]
    odd = (np.arange(first_frequency, first_frequency + size) % 2).astype(bool)
    rows = np.where(odd[:, None], -coefficients, coefficients)  # turned upside down
    cols = np.where(odd[None, :], -coefficients, coefficients)  # mirrored left to right
    both = np.where(odd[:, None] ^ odd[None, :], -coefficients, coefficients)
    return [coefficients, cols.T, both, rows.T, rows, cols, coefficients.T, both.T]


@cache
def _dct_matrix() -> F32:
    """The reference's ``dct_matrix_64``: row i, column j = sqrt(2/64) cos(pi (i+1) (2j+1) / 128).

    Computed as it does: the scale rounded to float32, the product in double,
    the result rounded to float32. libm's ``cos`` is within an ulp of exact in
    double; the float32 rounding of every entry is far from a tie (tested), so any
    correct libm gives the same table.
    """
    scale = float(np.float32(math.sqrt(2.0 / SIDE)))
    step = math.pi / 2.0 / SIDE
    table = [
        [scale * math.cos(step * (i + 1) * (2 * j + 1)) for j in range(SIDE)]
        for i in range(_FREQUENCIES)
    ]
    return np.array(table, dtype=np.float32)


def _dct(small: F32) -> F32:
    """The 16x16 DCT block ``D A D^T`` of the 64x64 image, as the reference's ``dct64To16``.

    Each coefficient is a float32 sum of float32 products, added in the order of
    the 64 inputs; every product of a stage is formed at once, then the 64 terms
    are added one after another.
    """
    d = _dct_matrix()
    # Stage 1: T[i, j] = sum over k of D[i, k] * A[k, j].
    terms = d[:, :, None] * small[None, :, :]  # (i, k, j)
    t = np.zeros((_FREQUENCIES, SIDE), dtype=np.float32)
    for k in range(SIDE):
        np.add(t, terms[:, k, :], out=t)
    # Stage 2: B[i, j] = sum over k of T[i, k] * D[j, k].
    terms2 = np.ascontiguousarray((t[:, None, :] * d[None, :, :]).transpose(2, 0, 1))  # (k, i, j)
    b = np.zeros((_FREQUENCIES, _FREQUENCIES), dtype=np.float32)
    for k in range(SIDE):
        np.add(b, terms2[k], out=b)
    return b


def _bits(coefficients: F32) -> int:
    """Bit k set when coefficient k (row-major) is above the median (``pdqBuffer16x16ToBits``).

    The reference's median (Torben's method on 256 values) is the 128th smallest.
    """
    flat = coefficients.ravel()
    median = np.partition(flat, flat.size // 2 - 1)[flat.size // 2 - 1]
    packed = np.packbits(flat > median, bitorder="little")
    return int.from_bytes(packed.tobytes(), "little")


def _quality(small: F32) -> int:
    """The reference's ``pdqImageDomainQualityMetric``: how much structure the image has.

    Each difference of neighbours is scaled to percent of full scale in float32
    and truncated to an integer; their absolute sum over 90, capped at 100.
    """
    scale, full = np.float32(100), np.float32(255)
    total = 0
    for diff in (small[:-1, :] - small[1:, :], small[:, :-1] - small[:, 1:]):
        total += int(np.abs(np.trunc(diff * scale / full).astype(np.int64)).sum())
    return min(total // 90, 100)
