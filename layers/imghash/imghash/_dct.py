"""The 2-D DCT-II behind pHash, one per profile, each giving the same numbers wherever it runs.

``jimp``: the unnormalised DCT-II of DESIGN §3, low 8x8 block only, summed term by
term with element-wise numpy operations in a fixed order from stored, correctly
rounded cosines. No BLAS, FFT, einsum or libm is asked, so no CPU feature (fused
multiply-add, SIMD width, a vendor's cosine) can change a bit: the values are the
same on x86_64 and on arm64 (Lambda).

``imagehash``: what the imagehash 4.3 library computes,
``scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)``, reproduced to the
last bit without scipy. scipy 1.18 runs ducc0's DCT-II (``ducc0/fft/fft1d_impl.h``,
``T_dcst23``), which for n = 32 pre-processes the input, runs a real FFT and
post-processes with twiddle factors; numpy's real FFT (pocketfft, ducc0's ancestor)
gives the FFT's bits on x86_64, and the steps around it are copied operation by
operation. On arm64 numpy's and scipy's FFTs both use fused multiply-add, so there
the values (the library's own included) move in the last bits; only bits that
rounding noise decides can change (see ``_bits.unstable_bits``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["HASH_SIDE", "THUMB_SIDE", "imagehash_dct", "jimp_dct"]

F64 = npt.NDArray[np.float64]

#: pHash reads a 32x32 thumbnail and keeps the 8x8 lowest frequencies.
THUMB_SIDE = 32
HASH_SIDE = 8

# cos(pi * j / 64) for j = 0..32, correctly rounded to double (computed with 60-digit
# decimal arithmetic; tests/unit/test_dct.py recomputes and checks them). Stored rather
# than computed because np.cos and libm's cos may differ in the last bit between builds
# and CPUs, and because math.cos(math.pi * j / 64) carries the rounding of its argument.
_COS_QUADRANT = (
    float.fromhex("0x1.0000000000000p+0"),
    float.fromhex("0x1.ff621e3796d7ep-1"),
    float.fromhex("0x1.fd88da3d12526p-1"),
    float.fromhex("0x1.fa7557f08a517p-1"),
    float.fromhex("0x1.f6297cff75cb0p-1"),
    float.fromhex("0x1.f0a7efb9230d7p-1"),
    float.fromhex("0x1.e9f4156c62ddap-1"),
    float.fromhex("0x1.e212104f686e5p-1"),
    float.fromhex("0x1.d906bcf328d46p-1"),
    float.fromhex("0x1.ced7af43cc773p-1"),
    float.fromhex("0x1.c38b2f180bdb1p-1"),
    float.fromhex("0x1.b728345196e3ep-1"),
    float.fromhex("0x1.a9b66290ea1a3p-1"),
    float.fromhex("0x1.9b3e047f38741p-1"),
    float.fromhex("0x1.8bc806b151741p-1"),
    float.fromhex("0x1.7b5df226aafafp-1"),
    float.fromhex("0x1.6a09e667f3bcdp-1"),
    float.fromhex("0x1.57d69348ceca0p-1"),
    float.fromhex("0x1.44cf325091dd6p-1"),
    float.fromhex("0x1.30ff7fce17035p-1"),
    float.fromhex("0x1.1c73b39ae68c8p-1"),
    float.fromhex("0x1.073879922ffeep-1"),
    float.fromhex("0x1.e2b5d3806f63bp-2"),
    float.fromhex("0x1.b5d1009e15cc0p-2"),
    float.fromhex("0x1.87de2a6aea963p-2"),
    float.fromhex("0x1.58f9a75ab1fddp-2"),
    float.fromhex("0x1.294062ed59f06p-2"),
    float.fromhex("0x1.f19f97b215f1bp-3"),
    float.fromhex("0x1.8f8b83c69a60bp-3"),
    float.fromhex("0x1.2c8106e8e613ap-3"),
    float.fromhex("0x1.917a6bc29b42cp-4"),
    float.fromhex("0x1.91f65f10dd814p-5"),
    0.0,
)


def _cos_pi_64(j: int) -> float:
    """cos(pi * j / 64) for any integer j, from the quadrant by exact symmetries."""
    j %= 128
    if j > 64:
        j = 128 - j
    return _COS_QUADRANT[j] if j <= 32 else -_COS_QUADRANT[64 - j]


#: _BASIS[u, x] = cos(pi * (2x + 1) * u / 64): the DCT-II basis, low frequencies u < 8.
_BASIS: F64 = np.array(
    [[_cos_pi_64((2 * x + 1) * u) for x in range(THUMB_SIDE)] for u in range(HASH_SIDE)]
)


def _low_dct_axis0(values: F64) -> F64:
    """DCT-II terms u = 0..7 of each column of ``values`` (32, m), in a fixed order.

    All 8 x 32 products at once, then summed as a pairwise tree of element-wise
    adds of halves (x = 0+1, 2+3, ...; then pairs of those): the same additions in
    the same order for every output on every CPU, with pairwise summation's small
    error. The AC basis rows sum to zero, so they are applied to the columns minus
    their first row: a constant column gives exact zeros rather than rounding noise.
    """
    terms: F64 = _BASIS[:, :, None] * (values - values[0])
    terms[0] = values  # u = 0: the plain sum (its basis row is all ones)
    while terms.shape[1] > 1:
        terms = terms[:, 0::2] + terms[:, 1::2]
    sums: F64 = terms[:, 0]
    return sums


def jimp_dct(thumb: npt.NDArray[np.uint8]) -> F64:
    """The low 8x8 block of ``sum f(x,y) cos(pi(2x+1)u/64) cos(pi(2y+1)v/64)``, [v, u]."""
    columns = _low_dct_axis0(thumb.astype(np.float64))  # (v, x)
    return _low_dct_axis0(np.ascontiguousarray(columns.T)).T


# ducc0's twiddles for n = 32: w[i] = UnityRoots(128)[i + 1].r, i.e. cos(pi * (i + 1) / 64)
# as ducc0 computes it (products of two tabulated roots), not correctly rounded: 13 of the
# 31 used differ from _COS_QUADRANT (w[29] and w[30] by 20 units in the last place).
# How they were obtained: for each pair (w[k-1], w[31-k]) every double within 6e-16 of the
# true cosine was tried in _scipy_dct_axis0 on 300 random columns, and exactly one pair
# reproduced scipy.fftpack.dct (scipy 1.18.1, x86_64) in outputs k and 32 - k;
# tests/unit/test_dct.py checks the result against scipy on thousands of inputs.
_W = (
    float.fromhex("0x1.ff621e3796d7ep-1"),
    float.fromhex("0x1.fd88da3d12526p-1"),
    float.fromhex("0x1.fa7557f08a517p-1"),
    float.fromhex("0x1.f6297cff75cb0p-1"),
    float.fromhex("0x1.f0a7efb9230d7p-1"),
    float.fromhex("0x1.e9f4156c62ddap-1"),
    float.fromhex("0x1.e212104f686e5p-1"),
    float.fromhex("0x1.d906bcf328d46p-1"),
    float.fromhex("0x1.ced7af43cc773p-1"),
    float.fromhex("0x1.c38b2f180bdb1p-1"),
    float.fromhex("0x1.b728345196e3ep-1"),
    float.fromhex("0x1.a9b66290ea1a3p-1"),
    float.fromhex("0x1.9b3e047f38741p-1"),
    float.fromhex("0x1.8bc806b151741p-1"),
    float.fromhex("0x1.7b5df226aafafp-1"),
    float.fromhex("0x1.6a09e667f3bccp-1"),
    float.fromhex("0x1.57d69348cec9fp-1"),
    float.fromhex("0x1.44cf325091dd6p-1"),
    float.fromhex("0x1.30ff7fce17034p-1"),
    float.fromhex("0x1.1c73b39ae68c8p-1"),
    float.fromhex("0x1.073879922ffedp-1"),
    float.fromhex("0x1.e2b5d3806f639p-2"),
    float.fromhex("0x1.b5d1009e15cbfp-2"),
    float.fromhex("0x1.87de2a6aea961p-2"),
    float.fromhex("0x1.58f9a75ab1fdbp-2"),
    float.fromhex("0x1.294062ed59f04p-2"),
    float.fromhex("0x1.f19f97b215f1cp-3"),
    float.fromhex("0x1.8f8b83c69a60ap-3"),
    float.fromhex("0x1.2c8106e8e6136p-3"),
    float.fromhex("0x1.917a6bc29b424p-4"),
    float.fromhex("0x1.91f65f10dd810p-5"),
)

_W_LOW = np.array(_W[: THUMB_SIDE // 2 - 1])  # w[k - 1] for k = 1..15
_W_HIGH = np.array(_W[THUMB_SIDE - 2 : THUMB_SIDE // 2 - 1 : -1])  # w[31 - k] for k = 1..15


def _scipy_dct_axis0(values: F64) -> F64:
    """scipy's unnormalised DCT-II (``2 sum x[n] cos(pi(2n+1)k/64)``) of each column (32, m).

    ducc0's steps for an even length, in its order: double the ends; fold pairs into
    sums and differences; a half-complex spectrum through an inverse real FFT; then
    combine outputs k and 32 - k with the twiddles (for all k at once: the same
    element-wise products and sums as ducc0's loop).
    """
    n = THUMB_SIDE
    c = values.copy()
    c[0] *= 2
    c[n - 1] *= 2
    odd, even = c[1 : n - 1 : 2].copy(), c[2 : n - 1 : 2].copy()
    c[1 : n - 1 : 2] = even + odd
    c[2 : n - 1 : 2] = even - odd
    spectrum = np.empty((n // 2 + 1, values.shape[1]), dtype=np.complex128)
    spectrum[0] = c[0]
    spectrum[1 : n // 2] = c[1 : n - 1 : 2] + 1j * c[2 : n - 1 : 2]
    spectrum[n // 2] = c[n - 1]
    r = np.fft.irfft(spectrum, n=n, axis=0, norm="forward")
    k = np.arange(1, n // 2)
    lo, hi = _W_LOW[:, None], _W_HIGH[:, None]  # w[k - 1], w[32 - k - 1]
    t1 = lo * r[n - k] + hi * r[k]
    t2 = lo * r[k] - hi * r[n - k]
    y = np.empty_like(r)
    y[0] = r[0]
    y[n // 2] = r[n // 2] * _W[n // 2 - 1]
    y[k] = 0.5 * (t1 + t2)
    y[n - k] = 0.5 * (t1 - t2)
    return y


def imagehash_dct(thumb: npt.NDArray[np.uint8]) -> F64:
    """The low 8x8 block of ``scipy.fftpack.dct(scipy.fftpack.dct(thumb, axis=0), axis=1)``."""
    columns = _scipy_dct_axis0(thumb.astype(np.float64))[:HASH_SIDE]
    return _scipy_dct_axis0(np.ascontiguousarray(columns.T))[:HASH_SIDE].T
