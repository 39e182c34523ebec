"""The bits of each hash algorithm, computed from a grey thumbnail (numpy).

The registry that names them is ``_algorithms``; the thumbnails come from the
profile (``_pixels``); pHash's DCT, one per profile, from ``_dct``. Each function
returns the hash with its signals (:class:`~imghash._algorithms.Computed`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._algorithms import Computed
from ._dct import imagehash_dct, jimp_dct
from ._hashvalue import Hash
from ._pdq import dct_dihedral

__all__ = [
    "NOISE_BOUND",
    "average_hash",
    "difference_hash",
    "perceptual_hash",
    "unstable_bits",
]

Thumb = npt.NDArray[np.uint8]

#: How close (relative to the largest coefficient's magnitude) two DCT coefficients
#: may be before rounding noise, not the image, may decide which side of the
#: threshold each falls on. Every pHash coefficient is a sum of 1,024 terms
#: f(x,y) cos cos with |f| <= 255; however it is summed (pairwise, sequential, by FFT),
#: its rounding error is at most about 1,024 * 2^-53 ~ 1e-13 of sum |f|, and sum |f|
#: is the DC term, the block's largest magnitude (measured noise on patterns: 1e-16 of
#: it). On the other side, the smallest change image content can make, one grey level
#: of one pixel, moves a coefficient by at least cos^2(31 pi / 64) ~ 0.0024, which is
#: 9e-9 of the largest possible DC (255 * 1024). 1e-9 sits 10,000 times above the
#: noise and 9 times below that step: every noise-decided bit is caught, and a real
#: image's coefficients (hundreds to thousands apart) are essentially never this close.
NOISE_BOUND = 1e-9

#: pHash has 64 bits; a bit is 1 when at least this many others are below its coefficient.
_ABOVE = 32


def _pack(bits: npt.NDArray[np.bool_]) -> Hash:
    return Hash(int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big"))


def average_hash(thumb: Thumb, profile: str) -> Computed:
    """aHash (Krawetz, "Looks Like It", 2011): 8x8 grey, bit = pixel > mean."""
    return Computed(_pack(thumb > thumb.mean()))


def difference_hash(thumb: Thumb, profile: str) -> Computed:
    """dHash (Krawetz, "Kind of Like That", 2013): 9x8 grey, bit = right pixel > left pixel."""
    return Computed(_pack(thumb[:, 1:] > thumb[:, :-1]))


def unstable_bits(values: npt.NDArray[np.float64], scale: float) -> npt.NDArray[np.bool_]:
    """Which of ``values``' median-threshold bits rounding noise could flip.

    Both profiles' rule is "bit = more than half of the values lie below this one"
    (``jimp``: above the 32nd smallest of 63; ``imagehash``: above numpy's median of
    64), so a bit is 1 exactly when at least 32 other values are smaller. It is
    *unstable* when moving values by at most ``NOISE_BOUND * scale`` (in total, for
    any two) could make it either: exact ties count, as the tie rule rather than the
    image decides them.
    """
    tolerance = NOISE_BOUND * scale
    others = ~np.eye(values.size, dtype=np.bool_)
    gap = values[None, :] - values[:, None]  # gap[i, j] = values[j] - values[i]
    may_be_one = ((gap <= tolerance) & others).sum(axis=1) >= _ABOVE
    may_be_zero = ((gap < -tolerance) & others).sum(axis=1) < _ABOVE
    result: npt.NDArray[np.bool_] = may_be_one & may_be_zero
    return result


def perceptual_hash(thumb: Thumb, profile: str, *, dihedral: bool = False) -> Computed:
    """pHash (Zauner, "Implementation and Benchmarking of Perceptual Image Hash Functions", 2010).

    32x32 grey, 2-D DCT-II, top-left 8x8 block of low frequencies.
    ``jimp``: threshold = median of the 63 AC coefficients (the 32nd smallest), DC bit 0.
    ``imagehash``: threshold = median of all 64 (numpy's), DC included, as imagehash 4.3 does.

    ``dihedral``: also the hashes of the thumbnail turned by each of ``_dihedral.DIHEDRAL``,
    from the same block (a turn transposes the DCT and changes the sign of its odd
    frequencies), each with its own threshold and unstable bits.
    """
    block = imagehash_dct(thumb) if profile == "imagehash" else jimp_dct(thumb)
    plain = _phash_of(block, profile)
    if not dihedral:
        return plain
    turned = tuple(_phash_of(b, profile) for b in dct_dihedral(block, first_frequency=0))
    return Computed(plain.hash, plain.unstable_bits, dihedral=turned)


def _phash_of(block: npt.NDArray[np.float64], profile: str) -> Computed:
    """pHash's bits, and how many of them are unstable, from its 8x8 DCT block [v, u]."""
    flat = block.ravel()
    if profile == "imagehash":
        bits = flat > np.median(flat)
        considered = flat
    else:
        considered = flat[1:]
        bits = np.concatenate([[False], considered > np.sort(considered)[_ABOVE - 1]])
    # The DC term is the sum of the pixels (times 4 in scipy's scaling): every other
    # coefficient's magnitude, and its rounding error, is bounded in proportion to it.
    noisy = unstable_bits(considered, float(np.abs(flat).max()))
    return Computed(_pack(bits), int(noisy.sum()))
