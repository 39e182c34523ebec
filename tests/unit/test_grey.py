"""Jimp's grey, exhaustively: every one of the 2^24 colours against the double formula."""

from __future__ import annotations

import numpy as np
from PIL import Image

from imghash._pixels import jimp_grey


def test_every_colour_matches_the_double_formula() -> None:
    i = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([(i >> 16) & 255, (i >> 8) & 255, i & 255], axis=-1).astype(np.uint8)
    rgb = rgb.reshape(4096, 4096, 3)
    r, g, b = (rgb[..., c].astype(np.float64) for c in range(3))
    expected = np.trunc((0.2126 * r + 0.7152 * g) + 0.0722 * b).astype(np.uint8)
    got = np.asarray(jimp_grey(Image.fromarray(rgb, "RGB")))
    assert np.count_nonzero(got != expected) == 0


def test_many_neutral_pixels_take_the_bulk_path() -> None:
    # Every neutral grey lands exactly on an integer, so each of these pixels is
    # recomputed: more than the per-pixel path handles.
    levels = np.tile(np.arange(256, dtype=np.uint8), (128, 1))
    rgb = np.stack([levels, levels, levels], axis=-1)
    rgb[::7, ::5] = (12, 200, 31)
    r, g, b = (rgb[..., c].astype(np.float64) for c in range(3))
    expected = np.trunc((0.2126 * r + 0.7152 * g) + 0.0722 * b).astype(np.uint8)
    got = np.asarray(jimp_grey(Image.fromarray(rgb, "RGB")))
    np.testing.assert_array_equal(got, expected)
    assert np.count_nonzero(levels[:, 5] - expected[:, 5])  # (5, 5, 5) has grey 4
