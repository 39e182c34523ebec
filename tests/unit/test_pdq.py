"""PDQ against Meta's C++ reference (``pdqhash``) on generated images; its parts on their own."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imghash import _pdq_downscale
from imghash._pdq import (
    DIHEDRAL,
    PdqHash,
    _dct_matrix,
    dct_dihedral,
    pdq_dihedral,
    pdq_dihedral_luma,
    pdq_hash,
    pdq_hash_luma,
    pdq_luma,
)
from tests.helpers import photo_like
from tests.pdq_oracle import oracle_dihedral, oracle_hash

U8 = npt.NDArray[np.uint8]


def noise(rows: int, cols: int) -> U8:
    rng = np.random.default_rng([rows, cols])
    return rng.integers(0, 256, (rows, cols, 3), dtype=np.uint8)


def stripes(rows: int, cols: int) -> U8:
    """Hard vertical stripes: large gradients, exact ties in the DCT."""
    grey = np.where((np.arange(cols) // 3) % 2 == 0, 250, 5).astype(np.uint8)
    return np.repeat(np.broadcast_to(grey, (rows, cols))[..., None], 3, axis=2)


def mirrored(rows: int, cols: int) -> U8:
    """Noise mirrored left to right: half its DCT is zero but for rounding, which decides bits."""
    half = noise(rows, cols // 2)
    return np.ascontiguousarray(np.concatenate([half, half[:, ::-1]], axis=1))


def gradient(rows: int, cols: int) -> U8:
    ramp = np.linspace(0, 255, cols).astype(np.uint8)
    return np.stack([np.broadcast_to(ramp, (rows, cols))] * 3, axis=-1)


GENERATED: dict[str, Callable[[], U8]] = {
    "flat": lambda: np.full((100, 120, 3), 77, dtype=np.uint8),
    "black": lambda: np.zeros((64, 80, 3), dtype=np.uint8),
    "white 64x64": lambda: np.full((64, 64, 3), 255, dtype=np.uint8),
    "1x1": lambda: noise(1, 1),
    "2x3": lambda: noise(2, 3),
    "4x400 (under the minimum side)": lambda: noise(4, 400),
    "5x5 (the minimum side)": lambda: noise(5, 5),
    "64x64 (taken as already downscaled)": lambda: noise(64, 64),
    "64x64 mirrored": lambda: mirrored(64, 64),
    "63x65": lambda: noise(63, 65),
    "5x4000": lambda: noise(5, 4000),
    "3000x7": lambda: noise(3000, 7),
    "9x2500 stripes": lambda: stripes(9, 2500),
    "noise 333x517": lambda: noise(333, 517),
    "noise 1031x129": lambda: noise(1031, 129),
    "stripes 200x300": lambda: stripes(200, 300),
    "mirrored 300x200": lambda: mirrored(300, 200),
    "gradient 150x700": lambda: gradient(150, 700),
    "photo-like 480x640": lambda: np.asarray(photo_like(640, 480, seed=3)),
    "photo-like 1200x260": lambda: np.asarray(photo_like(260, 1200, seed=4)),
}


@pytest.mark.parametrize("name", list(GENERATED))
def test_hash_and_quality_equal_the_reference(name: str) -> None:
    rgb = GENERATED[name]()
    assert pdq_hash(rgb) == oracle_hash(rgb)


@pytest.mark.parametrize("name", list(GENERATED))
def test_dihedral_hashes_equal_the_reference(name: str) -> None:
    rgb = GENERATED[name]()
    assert pdq_dihedral(rgb) == oracle_dihedral(rgb)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 300),
    cols=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
    levels=st.sampled_from([2, 16, 256]),
)
def test_random_images_equal_the_reference(rows: int, cols: int, seed: int, levels: int) -> None:
    step = 256 // levels
    rgb = (np.random.default_rng(seed).integers(0, levels, (rows, cols, 3)) * step).astype(np.uint8)
    assert pdq_hash(rgb) == oracle_hash(rgb)
    assert pdq_dihedral(rgb) == oracle_dihedral(rgb)


def test_known_cases() -> None:
    """What the reference says of images without structure, checked against it above."""
    assert pdq_hash(GENERATED["1x1"]()) == PdqHash(0, 0)
    assert pdq_hash(GENERATED["flat"]()).quality == 0
    assert pdq_hash(GENERATED["noise 333x517"]()).quality == 100


def test_the_hash_of_a_64x64_image_is_not_its_dihedral_original() -> None:
    """The reference filters a 64x64 plane for the dihedral hashes but not for the hash.

    Filtering a 64x64 plane (window 1) only rounds, so the two usually agree; where
    rounding decides bits (a mirrored image) they do not, and both sides are the
    reference's (the tests above).
    """
    rgb = GENERATED["64x64 mirrored"]()
    assert pdq_hash(rgb) != pdq_dihedral(rgb)[0]


def test_luma_entry_points_equal_the_rgb_ones() -> None:
    rgb = GENERATED["photo-like 480x640"]()
    luma = pdq_luma(rgb)
    assert luma.dtype == np.float32
    assert luma.shape == (480, 640)
    assert pdq_hash_luma(luma) == pdq_hash(rgb)
    assert pdq_dihedral_luma(luma) == pdq_dihedral(rgb)


def test_luma_is_computed_in_double_then_rounded() -> None:
    """Luma against the formula evaluated pixel by pixel in Python floats (IEEE doubles)."""
    rgb = np.random.default_rng(7).integers(0, 256, (100, 200, 3), dtype=np.uint8)
    expected = [
        np.float32((r * 0.299 + g * 0.587) + b * 0.114) for r, g, b in rgb.reshape(-1, 3).tolist()
    ]
    assert pdq_luma(rgb).ravel().tolist() == expected


# --- the parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "window"), [(5, 1), (128, 1), (129, 2), (256, 2), (1004, 8), (1600, 13), (4032, 32)]
)
def test_window_size(old: int, window: int) -> None:
    """ceil(old / 128): two passes of half a destination pixel cover it once."""
    assert _pdq_downscale.window_size(old, 64) == window == math.ceil(old / 128)


def test_decimation_samples_the_centre_of_each_share() -> None:
    for old in (5, 63, 64, 100, 1004, 4032):
        expected = [int(((i + 0.5) * old) / 64) for i in range(64)]
        assert _pdq_downscale.decimation_indices(old).tolist() == expected


def box_scalar(values: list[float], window: int) -> list[float]:
    """The reference's ``box1DFloat``, transcribed loop by loop, float32 by numpy scalars."""
    f32 = np.float32
    half = (window + 2) // 2
    out: list[float] = []
    total, count, right, left = f32(0), 0, 0, 0
    for _ in range(half - 1):
        total, count, right = f32(total + f32(values[right])), count + 1, right + 1
    for _ in range(window - half + 1):
        total, count, right = f32(total + f32(values[right])), count + 1, right + 1
        out.append(float(f32(total / f32(count))))
    for _ in range(len(values) - window):
        total = f32(total + f32(values[right]))
        total = f32(total - f32(values[left]))
        out.append(float(f32(total / f32(count))))
        left, right = left + 1, right + 1
    for _ in range(half - 1):
        total, count, left = f32(total - f32(values[left])), count - 1, left + 1
        out.append(float(f32(total / f32(count))))
    return out


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(1, 120),
    window=st.integers(1, 40),
    columns=st.sampled_from([1, 3, 64, 130]),
    seed=st.integers(0, 2**32 - 1),
)
def test_both_box_schedules_equal_the_scalar_reference(
    length: int, window: int, columns: int, seed: int
) -> None:
    window = min(window, length)  # the reference's windows never exceed the side
    x = (np.random.default_rng(seed).random((length, columns)) * 255).astype(np.float32)
    counts = _pdq_downscale._window_counts(length, window)[:, None]
    wide = _pdq_downscale._box_sums_wide(x, window) / counts
    narrow = _pdq_downscale._box_sums_cumsum(x, window) / counts
    expected = np.array([box_scalar(x[:, c].tolist(), window) for c in range(columns)]).T
    assert np.array_equal(wide, expected)
    assert np.array_equal(narrow, expected)


def test_dct_table_does_not_depend_on_the_last_bit_of_cos() -> None:
    """Each entry's double value is far from a float32 rounding tie, so a libm whose
    ``cos`` is off by an ulp or two (or a compiler folding it exactly) gives this table."""
    scale = float(np.float32(math.sqrt(2.0 / 64)))
    table = _dct_matrix()
    for i in range(16):
        for j in range(64):
            exact = scale * math.cos(math.pi / 2.0 / 64 * (i + 1) * (2 * j + 1))
            for nudge in (-4, 4):
                moved = exact + nudge * math.ulp(exact)
                assert np.float32(moved) == table[i, j]


def dct_ii(image: npt.NDArray[np.float64], first: int, count: int) -> npt.NDArray[np.float64]:
    """Frequencies first..first+count-1 of the 2-D DCT-II along both axes (float64)."""
    n = image.shape[0]
    basis = np.cos(
        np.pi * np.arange(first, first + count)[:, None] * (2 * np.arange(n) + 1) / (2 * n)
    )
    return basis @ image @ basis.T


TURNS: dict[str, Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]] = {
    "original": lambda a: a,
    "rotate90": lambda a: np.rot90(a, 1),  # counter-clockwise
    "rotate180": lambda a: np.rot90(a, 2),
    "rotate270": lambda a: np.rot90(a, 3),
    "flipx": lambda a: a[::-1],  # upside down
    "flipy": lambda a: a[:, ::-1],  # mirrored left to right
    "flipplus1": lambda a: a.T,
    "flipminus1": lambda a: np.rot90(a, 2).T,
}


@pytest.mark.parametrize(("side", "first", "count"), [(64, 1, 16), (32, 0, 8), (9, 0, 9)])
def test_dct_dihedral_is_the_dct_of_the_turned_image(side: int, first: int, count: int) -> None:
    """PDQ's 16x16 block (frequencies 1-16) and a pHash-style block with the constant term."""
    image = np.random.default_rng(side).random((side, side)) * 255
    turned = dct_dihedral(dct_ii(image, first, count), first_frequency=first)
    assert list(TURNS) == list(DIHEDRAL)
    for name, block in zip(DIHEDRAL, turned, strict=True):
        np.testing.assert_allclose(block, dct_ii(TURNS[name](image), first, count), atol=1e-7)
