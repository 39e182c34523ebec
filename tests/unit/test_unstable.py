"""Unstable pHash bits: the noise bound on both sides, exact arithmetic as the oracle, patterns.

A bit is unstable when rounding noise, not the image, decides it (issue 9 item 4).
The oracle is ``tests.exact``: the same DCT block summed in integers, where a tie is
a tie; the float detector must flag exactly the bits that real arithmetic leaves tied.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

import imghash
from imghash._bits import NOISE_BOUND, perceptual_hash, unstable_bits
from imghash._compare import MAX_UNSTABLE_BITS
from imghash._decode import decode
from imghash._hashing import MOSTLY_NOISE_BITS
from imghash._profiles import resolve_profile
from imghash._settings import Settings
from tests.exact import exact_low_dct, tied_bits
from tests.helpers import encode, photo_like
from tests.patterns import checkerboard, gradient, patterns, stripes, symmetric

PROFILES = ("jimp", "imagehash")
#: ``make test-full`` sets it: the whole generated set rather than a sample.
FULL = os.environ.get("IMGHASH_FULL") == "1"


def separated(n: int, gap_at_median: float, scale: float = 1e6) -> npt.NDArray[np.float64]:
    """``n`` values 1,000 apart, but the 32nd and 33rd smallest ``gap_at_median`` apart.

    Both profiles' threshold falls between those two: a bit is 1 when 32 values lie below.
    """
    values = np.arange(n, dtype=np.float64) * 1000.0
    values[32:] += gap_at_median - 1000.0
    values[-1] = scale  # the largest magnitude sets the bound
    return np.random.default_rng(n).permutation(values)


@pytest.mark.parametrize("n", [63, 64])  # jimp's AC terms, imagehash's whole block
def test_the_bound_on_both_sides(n: int) -> None:
    tolerance = NOISE_BOUND * 1e6
    assert tolerance == pytest.approx(1e-3)
    assert unstable_bits(separated(n, 0.5 * tolerance), 1e6).sum() == 2
    assert unstable_bits(separated(n, 0.99 * tolerance), 1e6).sum() == 2
    assert unstable_bits(separated(n, 1.01 * tolerance), 1e6).sum() == 0
    assert unstable_bits(separated(n, 2 * tolerance), 1e6).sum() == 0
    assert unstable_bits(separated(n, 0.0), 1e6).sum() == 2  # an exact tie counts


def test_the_bound_scales_with_the_coefficients() -> None:
    values = separated(64, 0.5e-3)
    for factor in (1e-6, 1.0, 1e6):
        assert unstable_bits(values * factor, 1e6 * factor).sum() == 2


def test_a_cluster_at_the_median_is_unstable_and_the_rest_is_not() -> None:
    values = np.arange(64, dtype=np.float64) * 1000.0
    values[30:35] = 31_000.0 + np.array([0, 1e-12, -1e-12, 2e-12, 0])  # five near-equal
    flags = unstable_bits(values, float(values.max()))
    assert sorted(np.flatnonzero(flags)) == [30, 31, 32, 33, 34]


def test_flat_thumbnails_are_all_noise() -> None:
    for level in (0, 98, 255):
        thumb = np.full((32, 32), level, dtype=np.uint8)
        assert perceptual_hash(thumb, "jimp").unstable_bits == 63  # every AC term is 0
        # imagehash's block includes the DC term, which is stable unless it is 0 too
        assert perceptual_hash(thumb, "imagehash").unstable_bits == (63 if level else 64)


def test_random_thumbnails_are_stable() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        thumb = rng.integers(0, 256, (32, 32), dtype=np.uint8)
        for profile in PROFILES:
            assert perceptual_hash(thumb, profile).unstable_bits == 0


def thumbnail(image: Image.Image, profile: str) -> npt.NDArray[np.uint8]:
    decoded = decode(encode(image), Settings.from_environ({}))
    return resolve_profile(profile).prepare(decoded).thumbnail(32, 32)


@pytest.mark.parametrize("profile", PROFILES)
def test_unstable_bits_are_the_ties_of_exact_arithmetic(profile: str) -> None:
    """Every fourth generated pattern here; ``make test-full`` checks all of them."""
    checked = flagged = 0
    for name, image in patterns(every=1 if FULL else 4):
        thumb = thumbnail(image, profile)
        exact = exact_low_dct(thumb)
        ties = tied_bits(exact[1:] if profile == "jimp" else exact)
        assert perceptual_hash(thumb, profile).unstable_bits == ties, name
        checked += 1
        flagged += ties > 0
    assert checked > 150
    assert 0.2 < flagged / checked < 0.95  # both sides of the question are asked


STRUCTURED = [
    # A checkerboard symmetric about its centre, and shifted by a whole cell.
    *(
        (f"checkerboard {size} cell {cell} phase {phase}", checkerboard(size, size, cell, phase))
        for size, cell in itertools.product((64, 96, 128, 256), (2, 4, 8, 16))
        for phase in (0, cell)
    ),
    *(
        (f"stripes {w}x{h} {d} period {t} phase {p}", stripes(w, h, t, p, d))
        for (w, h), d, t, p in itertools.product(
            ((64, 64), (100, 60), (200, 150), (300, 300)),
            ("vertical", "horizontal"),
            (2, 3, 5, 8),
            (0, 1, 2),
        )
    ),
    *(
        (f"symmetric {w}x{h} variant {v}", symmetric(w, h, v))
        for (w, h), v in itertools.product(((64, 64), (100, 60), (200, 150), (300, 300)), range(6))
    ),
    *(
        (f"gradient {w}x{h} {kind} from {start}", gradient(w, h, kind, start))
        for (w, h), kind, start in itertools.product(
            ((64, 64), (100, 60), (200, 150), (300, 300)),
            ("horizontal", "vertical", "radial"),
            (0, 20, 55),
        )
    ),
]


@pytest.mark.parametrize("profile", PROFILES)
def test_structured_pictures_are_flagged(profile: str) -> None:
    unflagged = {}
    for name, image in STRUCTURED:
        result = imghash.hash_image(encode(image), profile=profile)
        if result.unstable_bits["phash"] <= MAX_UNSTABLE_BITS:
            unflagged[name] = result.unstable_bits["phash"]
    assert not unflagged


def test_photo_like_pictures_are_not_flagged() -> None:
    for seed, profile in itertools.product(range(10), PROFILES):
        result = imghash.hash_image(encode(photo_like(120, 90, seed)), profile=profile)
        assert result.unstable_bits == {"phash": 0}
        assert not result.low_information


def test_a_mostly_noise_phash_is_low_information_but_not_flat() -> None:
    board = imghash.hash_image(encode(checkerboard(240, 240, 30)))
    assert board.unstable_bits["phash"] > MOSTLY_NOISE_BITS
    assert board.low_information
    assert not board.flat
    assert board.signals() == {
        "low_information": True,
        "unstable_bits": {"phash": board.unstable_bits["phash"]},
    }
    # asked even when pHash is not: it is a property of the image
    assert imghash.hash_image(
        encode(checkerboard(240, 240, 30)), algorithms="ahash"
    ).low_information
    flat = imghash.hash_image(encode(Image.new("L", (50, 50), 128)))
    assert flat.flat
    assert flat.low_information
    photo = imghash.hash_image(encode(photo_like()))
    assert not photo.low_information
    assert photo.signals() == {}


@pytest.mark.parametrize("profile", PROFILES)
def test_a_checkerboard_and_its_smaller_jpeg_are_likely_the_same(profile: str) -> None:
    board = checkerboard(240, 240, 30)
    copy = board.convert("RGB").resize((160, 160), Image.Resampling.BICUBIC)
    verdict = imghash.compare_images(
        encode(board), encode(copy, "JPEG", quality=70), profile=profile
    )
    assert verdict.likely_same
    assert verdict.decided_by == ("ahash", "dhash")  # pHash's bits are noise: it sits out
    assert verdict.algorithms["phash"].distance > 12  # and would have said no
    # a different board is still told apart
    other = checkerboard(240, 240, 30, phase=15)
    assert not imghash.compare_images(encode(board), encode(other), profile=profile).likely_same
