"""The algorithm registry and each algorithm's definition on hand-made thumbnails."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imghash import ALGORITHMS, Hash, InvalidRequest
from imghash._algorithms import resolve_algorithms
from imghash._bits import average_hash, difference_hash, perceptual_hash


def test_registry_names_and_sizes() -> None:
    assert list(ALGORITHMS) == ["ahash", "dhash", "phash", "pdq"]
    assert [a.thumbnail for a in ALGORITHMS.values()] == [(8, 8), (9, 8), (32, 32), None]
    assert [a.bits for a in ALGORITHMS.values()] == [64, 64, 64, 256]
    assert [a.name for a in ALGORITHMS.values() if a.dihedral] == ["phash", "pdq"]


def test_all_keeps_meaning_the_seeds_three() -> None:
    """PDQ is asked for by name: ``all`` (and no choice) give the seed's shape."""
    assert [a.name for a in resolve_algorithms("all")] == ["ahash", "dhash", "phash"]
    assert [a.name for a in resolve_algorithms(None)] == ["ahash", "dhash", "phash"]
    assert [a.name for a in resolve_algorithms("phash,pdq")] == ["phash", "pdq"]
    # in a list, "all" stands for the three: "all,pdq" asks for every algorithm
    assert [a.name for a in resolve_algorithms("all,pdq")] == ["ahash", "dhash", "phash", "pdq"]
    assert [a.name for a in resolve_algorithms("pdq,all")] == ["pdq", "ahash", "dhash", "phash"]


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        (None, ["ahash", "dhash", "phash"]),
        ("all", ["ahash", "dhash", "phash"]),
        ("dhash", ["dhash"]),
        ("phash, AHASH", ["phash", "ahash"]),
        ("ahash,ahash", ["ahash"]),
        (["dhash", "phash"], ["dhash", "phash"]),
    ],
)
def test_resolve_algorithms(spec: object, names: list[str]) -> None:
    assert [a.name for a in resolve_algorithms(spec)] == names  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", ["md5", "ahash,nope", "", " , "])
def test_unknown_algorithms_are_refused(spec: str) -> None:
    with pytest.raises(InvalidRequest):
        resolve_algorithms(spec)


def test_average_hash_is_pixels_above_the_mean() -> None:
    thumb = np.zeros((8, 8), dtype=np.uint8)
    thumb[0, 0] = 200
    thumb[7, 7] = 3
    assert average_hash(thumb, "jimp").hash == Hash(1 << 63)


def test_difference_hash_is_brighter_than_left() -> None:
    thumb = np.tile(np.arange(9, dtype=np.uint8), (8, 1))  # every pixel brighter than its left
    assert difference_hash(thumb, "jimp").hash == Hash(2**64 - 1)
    assert difference_hash(thumb[:, ::-1].copy(), "jimp").hash == Hash(0)


def naive_dct(thumb: np.ndarray) -> np.ndarray:
    """DESIGN §3's formula, term by term: F[v][u] = sum f(x,y) cos(.. u ..) cos(.. v ..)."""
    n = thumb.shape[0]
    out = np.zeros((8, 8))
    for v in range(8):
        for u in range(8):
            out[v, u] = sum(
                float(thumb[y, x])
                * math.cos(math.pi * (2 * x + 1) * u / (2 * n))
                * math.cos(math.pi * (2 * y + 1) * v / (2 * n))
                for y in range(n)
                for x in range(n)
            )
    return out


def test_perceptual_hash_follows_the_definition() -> None:
    rng = np.random.default_rng(7)
    thumb = rng.integers(0, 256, (32, 32), dtype=np.uint8)
    coefficients = naive_dct(thumb).ravel()
    threshold = np.sort(coefficients[1:])[31]  # median of the 63 AC terms
    bits = coefficients > threshold
    bits[0] = False
    assert perceptual_hash(thumb, "jimp").hash == Hash.from_bits(bits.tolist())
    with_dc = coefficients > np.median(coefficients)
    assert perceptual_hash(thumb, "imagehash").hash == Hash.from_bits(with_dc.tolist())


def test_flat_thumbnail_gives_exact_zero_ac_terms() -> None:
    thumb = np.full((32, 32), 98, dtype=np.uint8)
    assert perceptual_hash(thumb, "jimp").hash == Hash(0)
    assert perceptual_hash(thumb, "imagehash").hash == Hash(1 << 63)  # only DC above the median
