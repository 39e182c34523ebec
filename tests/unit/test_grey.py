"""Jimp's grey, exhaustively: every one of the 2^24 colours against the double formula."""

from __future__ import annotations

import numpy as np
import pytest

from imghash._grey import GreyMaker, grey_of_level


def double_formula(rgb: np.ndarray) -> np.ndarray:
    """Jimp's grey as the JavaScript computes it: IEEE double, in its order, truncated."""
    r, g, b = (rgb[..., c].astype(np.float64) for c in range(3))
    return np.trunc((0.2126 * r + 0.7152 * g) + 0.0722 * b).astype(np.uint8)


def grey_by_blocks(rgb: np.ndarray) -> np.ndarray:
    height, width, channels = rgb.shape
    make = GreyMaker(width, channels)
    out = np.empty((height, width), dtype=np.uint8)
    for top in range(0, height, make.rows):
        make(rgb[top : top + make.rows], out[top : top + make.rows])
    return out


@pytest.mark.slow
def test_every_colour_matches_the_double_formula() -> None:
    i = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([(i >> 16) & 255, (i >> 8) & 255, i & 255], axis=-1).astype(np.uint8)
    rgb = rgb.reshape(4096, 4096, 3)
    got = grey_by_blocks(rgb)
    assert np.count_nonzero(got != double_formula(rgb)) == 0


def test_the_774_colours_the_double_formula_puts_one_lower_are_all_found() -> None:
    # Every colour whose exact grey is a whole number (N = 2126 R + 7152 G + 722 B a
    # multiple of 10000), found by brute force, not by the package's modular shortcut.
    rg = np.arange(65536)
    r, g = rg & 255, rg >> 8
    b = np.arange(256)
    n = (2126 * r + 7152 * g)[:, None] + 722 * b[None, :]
    pair, blue = np.nonzero(n % 10000 == 0)
    rgb = np.stack([r[pair], g[pair], blue], axis=-1).astype(np.uint8)
    assert len(rgb) == 3384
    exact = (n[pair, blue] // 10000).astype(np.uint8)
    expected = double_formula(rgb)
    assert np.count_nonzero(expected != exact) == 774
    got = grey_by_blocks(rgb.reshape(1, -1, 3))[0]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("channels", [3, 4])
def test_neutral_images_take_the_dense_path(channels: int) -> None:
    # Every neutral grey lands exactly on a whole number, so each of these pixels is
    # looked up: more than the pixel-by-pixel fix-up takes.
    levels = np.tile(np.arange(256, dtype=np.uint8), (70, 1))
    rgb = np.stack([levels] * channels, axis=-1)
    rgb[::7, ::5, :3] = (12, 200, 31)
    got = grey_by_blocks(rgb)
    np.testing.assert_array_equal(got, double_formula(rgb))
    assert np.count_nonzero(levels[:, 5] - got[:, 5])  # (5, 5, 5) has grey 4
    np.testing.assert_array_equal(grey_of_level(), double_formula(np.stack([levels[0]] * 3, -1)))


def test_a_few_whole_pixels_take_the_sparse_path() -> None:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (40, 300, 3), dtype=np.uint8)
    rgb[3, 17] = (5, 5, 5)  # an exception: its grey is 4
    rgb[33, 200] = (128, 128, 128)
    got = grey_by_blocks(rgb)
    np.testing.assert_array_equal(got, double_formula(rgb))
    assert got[3, 17] == 4
