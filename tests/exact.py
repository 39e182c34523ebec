"""High-precision references for the pHash tests: cosines and the DCT, without floating point.

The cosines come from 80-digit decimal arithmetic (pi by Machin's formula, cos by its
Taylor series); the DCT is summed in Python integers from cosines scaled by 2^200, so
its only error is the cosines' (below 2^-190 of a coefficient's scale). Nothing here
shares code with ``imghash._dct``.
"""

from __future__ import annotations

import bisect
from decimal import Decimal, localcontext
from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = ["SCALE_BITS", "cos_pi_64", "exact_low_dct", "tied_bits"]

SCALE_BITS = 200


def _pi() -> Decimal:
    def arctan_inverse(n: int) -> Decimal:
        x = Decimal(1) / n
        total, power, k, sign = x, x, 1, 1
        while power > Decimal(10) ** -85:
            power /= n * n
            k += 2
            sign = -sign
            total += sign * power / k
        return total

    return 4 * (4 * arctan_inverse(5) - arctan_inverse(239))


@lru_cache(maxsize=1)
def _cosines() -> tuple[Decimal, ...]:
    """cos(pi * j / 64), j = 0..127, to 80 digits."""
    with localcontext() as ctx:
        ctx.prec = 90
        pi = _pi()
        out = []
        for j in range(128):
            x = pi * j / 64
            term = total = Decimal(1)
            n = 0
            while abs(term) > Decimal(10) ** -88:
                n += 2
                term = -term * x * x / ((n - 1) * n)
                total += term
            out.append(Decimal(0) if j in (32, 96) else +total)  # cos(pi / 2) is 0 exactly
        return tuple(out)


def cos_pi_64(j: int) -> Decimal:
    """cos(pi * j / 64) to 80 significant digits."""
    return _cosines()[j % 128]


@lru_cache(maxsize=1)
def _basis() -> npt.NDArray[np.object_]:
    """round(2^200 cos(pi (2x + 1) u / 64)) for u < 8, x < 32, as Python integers."""
    with localcontext() as ctx:
        ctx.prec = 90
        scaled = [
            [
                int((cos_pi_64((2 * x + 1) * u) * (1 << SCALE_BITS)).to_integral_value())
                for x in range(32)
            ]
            for u in range(8)
        ]
    return np.array(scaled, dtype=object)


def exact_low_dct(thumb: npt.NDArray[np.uint8]) -> list[int]:
    """DESIGN §3's 8x8 DCT block of a 32x32 thumbnail, row-major [v][u], times 2^400.

    Object arrays: numpy only arranges the Python integer products and sums, exactly.
    """
    basis = _basis()
    pixels = thumb.astype(object)
    block = basis @ pixels @ basis.T  # [v][u] = sum_y,x C[v][y] f[y][x] C[u][x]
    return [int(v) for v in block.ravel()]


def tied_bits(values: list[int], relative_bits: int = 133) -> int:
    """How many median-threshold bits of ``values`` a tie decides (within 2^-133 ~ 1e-40).

    A bit is 1 when at least 32 other values are smaller; it is tied when a value
    equal to its own (within 2^-``relative_bits`` of the largest magnitude) could make
    it either. The cosines' rounding (2^-190 of the scale) is far below that, so what
    this counts are the ties of real arithmetic.
    """
    tolerance = max(abs(v) for v in values) >> relative_bits
    ordered = sorted(values)
    count = 0
    for value in values:
        at_most = bisect.bisect_right(ordered, value + tolerance) - 1  # others, not itself
        surely_below = bisect.bisect_left(ordered, value - tolerance)
        count += at_most >= 32 and surely_below < 32
    return count
