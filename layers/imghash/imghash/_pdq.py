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
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from ._algorithms import Computed
from ._dihedral import DIHEDRAL
from ._hashvalue import Hash
from ._pdq_downscale import SIDE, downscale, downscale_columns

if TYPE_CHECKING:
    from ._pixels import Pixels

__all__ = [
    "BITS",
    "DIHEDRAL",
    "LUMA_ROWS",
    "MIN_SIDE",
    "LumaMaker",
    "PdqHash",
    "dct_dihedral",
    "pdq_columns_hashes",
    "pdq_computed",
    "pdq_dihedral",
    "pdq_dihedral_luma",
    "pdq_hash",
    "pdq_hash_luma",
    "pdq_luma",
]

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
#: A block of DCT coefficients: PDQ's are float32, pHash's float64.
Block = TypeVar("Block", npt.NDArray[np.float32], npt.NDArray[np.float64])

#: Coefficients kept per side: frequencies 1 to 16 (the constant term is left out).
_FREQUENCIES = 16
#: Images narrower or shorter than this hash to 0 with quality 0 (MIN_HASHABLE_DIM).
MIN_SIDE = 5
#: A PDQ hash has 16 x 16 bits.
BITS = _FREQUENCIES * _FREQUENCIES
#: Rows of luminance converted per block: the float64 temporaries stay in the cache.
LUMA_ROWS = 64


class PdqHash(NamedTuple):
    """A PDQ hash (256 bits as an int, bit k = ``1 << k``) and its quality, 0 to 100."""

    value: int
    quality: int


class LumaMaker:
    """PDQ's luminance of the row blocks of one image, as float32 into any view of a plane.

    ``(0.299 R + 0.587 G) + 0.114 B`` in double, rounded to float32: what ``pdqhash``
    computes (the C++ command-line tool rounds after every step in float32 instead, and
    so differs from it in the last bit of a few pixels). The double temporaries are
    those of one block of :data:`LUMA_ROWS` rows, allocated once per image.
    """

    def __init__(self, width: int) -> None:
        self._one = np.empty((LUMA_ROWS, width), dtype=np.float64)
        self._two = np.empty_like(self._one)

    def __call__(self, block: U8, out: F32) -> None:
        """The luminance of ``block`` into ``out`` (rows, width): a strided view will do.

        ``block`` is (rows, width, channels) uint8, at most LUMA_ROWS rows: R, G, B first,
        or one channel of grey, which is R = G = B.
        """
        if block.shape[-1] < 3:
            out[...] = _grey_luma()[block[..., 0]]
            return
        a, b = self._one[: len(block)], self._two[: len(block)]
        np.multiply(block[..., 0], 0.299, out=a)
        np.multiply(block[..., 1], 0.587, out=b)
        np.add(a, b, out=a)
        np.multiply(block[..., 2], 0.114, out=b)
        np.add(a, b, out=a)
        out[...] = a


@cache
def _grey_luma() -> F32:
    """The luminance of each grey level v, as of the colour (v, v, v): a lookup table."""
    v = np.arange(256, dtype=np.float64)
    table: F32 = ((v * 0.299 + v * 0.587) + v * 0.114).astype(np.float32)
    return table


def pdq_luma(rgb: U8) -> F32:
    """The float32 luminance PDQ hashes, from an 8-bit RGB array (height, width, 3)."""
    rows, cols = rgb.shape[:2]
    luma = np.empty((rows, cols), dtype=np.float32)
    make = LumaMaker(cols)
    for start in range(0, rows, LUMA_ROWS):
        make(rgb[start : start + LUMA_ROWS], luma[start : start + LUMA_ROWS])
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


def pdq_columns_hashes(columns: F32, *, dihedral: bool = False) -> list[PdqHash]:
    """The hash of a luma plane laid out by columns ((cols, rows): the plane transposed),
    then, when ``dihedral``, its eight dihedral hashes: the same values as
    :func:`pdq_hash_luma` and :func:`pdq_dihedral_luma` of the plane.

    ``columns`` is overwritten (the filters run in place, see ``downscale_columns``):
    no other full-size array is made.
    """
    cols, rows = columns.shape
    if min(cols, rows) < MIN_SIDE:
        return [PdqHash(0, 0)] * (1 + len(DIHEDRAL) * dihedral)
    # A 64x64 plane is hashed as it is (pdq_hash_luma), and filtered for the dihedral ones.
    as_is = np.ascontiguousarray(columns.T) if (rows, cols) == (SIDE, SIDE) else None
    small = downscale_columns(columns) if as_is is None or dihedral else as_is
    first = small if as_is is None else as_is
    hashes = [PdqHash(_bits(_dct(first)), _quality(first))]
    if dihedral:
        quality = _quality(small)
        hashes += [PdqHash(_bits(c), quality) for c in dct_dihedral(_dct(small), 1)]
    return hashes


def pdq_computed(pixels: Pixels, profile: str, *, dihedral: bool = False) -> Computed:
    """PDQ in the registry: the hash and quality of the frame the profile sees.

    Every profile gives the values of ``pdqhash`` on the frame's 8-bit RGB pixels; the
    profile decides only whether the frame is turned by its EXIF orientation first
    (``Profile.applies_orientation``). See ``_pixels.pdq_columns``.
    """
    hashes = pdq_columns_hashes(pixels.luma_columns(), dihedral=dihedral)
    computed = [Computed(Hash(h.value, BITS), quality=h.quality) for h in hashes]
    turned = tuple(computed[1:]) if dihedral else None
    return Computed(computed[0].hash, quality=computed[0].quality, dihedral=turned)


def dct_dihedral(coefficients: Block, first_frequency: int) -> list[Block]:
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
