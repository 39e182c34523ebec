"""pHash's DCTs (``_dct``): jimp's from correctly rounded cosines, imagehash's equal to scipy's.

scipy (a dev dependency, through imagehash) is the oracle for the imagehash profile:
its ``fftpack.dct`` must come out bit for bit, on thousands of inputs of every kind.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest
import scipy.fftpack

from imghash import _dct
from tests.exact import SCALE_BITS, cos_pi_64, exact_low_dct

U8 = npt.NDArray[np.uint8]


def test_stored_cosines_are_correctly_rounded() -> None:
    for j, stored in enumerate(_dct._COS_QUADRANT):
        assert stored == float(cos_pi_64(j)), j  # float(Decimal) rounds to nearest


def test_jimp_basis_follows_the_definition() -> None:
    for u, x in itertools.product(range(8), range(32)):
        assert _dct._BASIS[u, x] == float(cos_pi_64((2 * x + 1) * u)), (u, x)


def test_jimp_dct_is_the_definition_to_rounding() -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        thumb = rng.integers(0, 256, (32, 32), dtype=np.uint8)
        exact = np.array([v / 2 ** (2 * SCALE_BITS) for v in exact_low_dct(thumb)]).reshape(8, 8)
        assert np.abs(_dct.jimp_dct(thumb) - exact).max() < 1e-9


def test_jimp_dct_of_a_constant_is_exactly_dc() -> None:
    thumb = np.full((32, 32), 77, dtype=np.uint8)
    expected = np.zeros((8, 8))
    expected[0, 0] = 77 * 1024
    assert np.array_equal(_dct.jimp_dct(thumb), expected)


def thumbnails() -> Iterator[tuple[str, U8]]:
    """Thousands of 32x32 inputs: random ones and every pattern kind, made at 32x32."""
    rng = np.random.default_rng(2024)
    for n in range(1800):
        low, span = rng.integers(0, 200), rng.integers(1, 256)
        yield f"random-{n}", rng.integers(low, min(low + span, 256), (32, 32)).astype(np.uint8)
    y, x = np.mgrid[0:32, 0:32]
    for cell, phase, (a, b) in itertools.product(
        (1, 2, 3, 4, 5, 8, 16), range(4), ((0, 255), (40, 41), (100, 180))
    ):
        on = ((x + phase) // cell + (y + phase) // cell) % 2 == 1
        yield f"checkerboard-{cell}-{phase}-{a}", np.where(on, b, a).astype(np.uint8)
    for period, phase, axis in itertools.product((1, 2, 3, 4, 6, 8, 11, 16), range(4), range(3)):
        along = (x, y, x + y)[axis]
        yield (
            f"stripes-{period}-{phase}-{axis}",
            np.where((along + phase) // period % 2, 200, 30).astype(np.uint8),
        )
    for n in range(300):  # mirror-symmetric: left-right, top-bottom or both
        half = rng.integers(0, 256, (32, 16))
        board = np.concatenate([half, half[:, ::-1]], axis=1)
        if n % 3:
            board[16:] = board[:16][::-1]
        if n % 3 == 2:
            board = board.T.copy()
        yield f"symmetric-{n}", board.astype(np.uint8)
    for n, (fx, fy, offset) in enumerate(
        itertools.product((0, 1, 2, 3, 7), (0, 1, 2, 5), (0, 30, 90))
    ):
        ramp = offset + fx * x + fy * y
        yield f"gradient-{n}", np.clip(ramp, 0, 255).astype(np.uint8)
        yield (
            f"radial-{n}",
            np.clip(offset + (fx + 1) * np.hypot(x - 15.5, y - 15.5), 0, 255).astype(np.uint8),
        )
    for level in (0, 1, 128, 254, 255):
        yield f"flat-{level}", np.full((32, 32), level, dtype=np.uint8)
    for n in range(200):  # line art: a few one-pixel lines on white
        art = np.full((32, 32), 255, dtype=np.uint8)
        for _ in range(rng.integers(1, 6)):
            if rng.integers(2):
                art[rng.integers(32), :] = 0
            else:
                art[:, rng.integers(32)] = 0
        yield f"lineart-{n}", art


def test_imagehash_dct_equals_scipy_bit_for_bit() -> None:
    inputs = list(thumbnails())
    assert len(inputs) > 2500
    differing = [
        name
        for name, thumb in inputs
        if not np.array_equal(
            _dct.imagehash_dct(thumb),
            scipy.fftpack.dct(scipy.fftpack.dct(thumb, axis=0), axis=1)[:8, :8],
        )
    ]
    assert not differing


def scipy_columns() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    values = np.random.default_rng(3).integers(0, 256, (32, 300)).astype(np.float64)
    return values, scipy.fftpack.dct(values, axis=0)


@pytest.mark.parametrize("index", range(len(_dct._W)))
def test_each_twiddle_is_pinned_by_scipy(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each stored twiddle reproduces scipy, and its neighbouring doubles do not."""
    values, expected = scipy_columns()
    assert np.array_equal(_dct._scipy_dct_axis0(values), expected)
    stored = _dct._W[index]
    for neighbour in (np.nextafter(stored, 0.0), np.nextafter(stored, 2.0)):
        twiddles = list(_dct._W)
        twiddles[index] = float(neighbour)
        monkeypatch.setattr(_dct, "_W", tuple(twiddles))
        monkeypatch.setattr(_dct, "_W_LOW", np.array(twiddles[:15]))
        monkeypatch.setattr(_dct, "_W_HIGH", np.array(twiddles[30:15:-1]))
        assert not np.array_equal(_dct._scipy_dct_axis0(values), expected)
