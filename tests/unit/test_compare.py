"""Similarity, average similarity and the likely-same rule (DESIGN §3)."""

from __future__ import annotations

import math

import pytest

from imghash import Hash, InvalidRequest
from imghash._compare import (
    LIKELY_SAME_MAX_DISTANCE,
    MAX_UNSTABLE_BITS,
    compare_hashes,
    similarity,
)


@pytest.mark.parametrize(
    ("distance", "expected"),
    [(0, 100), (1, 98), (2, 97), (8, 88), (32, 50), (63, 2), (64, 0)],
)
def test_similarity_table(distance: int, expected: int) -> None:
    assert similarity(distance) == expected


@pytest.mark.parametrize("distance", range(65))
def test_similarity_is_javascript_round(distance: int) -> None:
    value = 100 * (1 - distance / 64)
    assert similarity(distance) == math.floor(value + 0.5)
    assert 0 <= similarity(distance) <= 100


def hashes(a: int, d: int, p: int) -> dict[str, Hash]:
    return {"ahash": Hash(a), "dhash": Hash(d), "phash": Hash(p)}


def flip(bits: int) -> int:
    return (1 << bits) - 1


def test_identical_images_are_likely_the_same() -> None:
    c = compare_hashes(hashes(1, 2, 3), hashes(1, 2, 3))
    assert c.likely_same
    assert c.average_similarity == 100
    assert {name: x.distance for name, x in c.algorithms.items()} == {
        "ahash": 0,
        "dhash": 0,
        "phash": 0,
    }


def test_average_similarity_rounds_half_up() -> None:
    # distances 1, 2, 2 -> similarities 98, 97, 97 -> mean 97.33 -> 97
    c = compare_hashes(hashes(0, 0, 0), hashes(flip(1), flip(2), flip(2)))
    assert [x.similarity for x in c.algorithms.values()] == [98, 97, 97]
    assert c.average_similarity == 97
    # similarities 98 and 97 -> 97.5 -> 98
    c = compare_hashes({"ahash": Hash(0), "dhash": Hash(0)}, {"ahash": Hash(1), "dhash": Hash(3)})
    assert c.average_similarity == 98


def test_rule_edges() -> None:
    limits = LIKELY_SAME_MAX_DISTANCE
    assert limits == {"ahash": 8, "dhash": 10, "phash": 12, "pdq": 31}
    widths = {"ahash": 64, "dhash": 64, "phash": 64, "pdq": 256}
    zero = {n: Hash(0, widths[n]) for n in limits}
    at = compare_hashes(zero, {n: Hash(flip(limits[n]), widths[n]) for n in limits})
    assert at.likely_same
    assert at.decided_by == tuple(limits)
    for name in limits:
        over = {n: Hash(flip(limits[n] + (n == name)), widths[n]) for n in limits}
        assert not compare_hashes(zero, over).likely_same, name


def test_flat_images_are_never_claimed_the_same() -> None:
    c = compare_hashes(hashes(0, 0, 0), hashes(0, 0, 0), low_information=(True, False))
    assert not c.likely_same
    assert c.to_dict()["low_information"] == {"image1": True, "image2": False}


def test_only_shared_algorithms_are_compared() -> None:
    c = compare_hashes({"phash": Hash(5)}, hashes(0, 0, 5))
    assert list(c.algorithms) == ["phash"]
    with pytest.raises(InvalidRequest):
        compare_hashes({"phash": Hash(5)}, {"ahash": Hash(5)})


def test_an_algorithm_with_more_than_a_few_unstable_bits_sits_out() -> None:
    a, far = hashes(0, 0, 0), hashes(0, 0, flip(40))  # pHash 40 bits apart, the rest equal
    assert not compare_hashes(a, far).likely_same
    at_limit = compare_hashes(a, far, unstable_bits=({"phash": MAX_UNSTABLE_BITS}, {}))
    assert at_limit.decided_by == ("ahash", "dhash", "phash")
    assert not at_limit.likely_same
    for side in (0, 1):
        counts: list[dict[str, int]] = [{"phash": 0}, {"phash": 0}]
        counts[side]["phash"] = MAX_UNSTABLE_BITS + 1
        over = compare_hashes(a, far, unstable_bits=(counts[0], counts[1]))
        assert over.decided_by == ("ahash", "dhash")
        assert over.likely_same
        assert over.to_dict()["decided_by"] == ["ahash", "dhash"]
        assert over.to_dict()["unstable_bits"] == {"image1": counts[0], "image2": counts[1]}


def test_nothing_decides_for_a_flat_image_and_no_decider_is_no() -> None:
    flat = compare_hashes(hashes(0, 0, 0), hashes(0, 0, 0), (True, True), flat=(True, False))
    assert flat.decided_by == ()
    assert not flat.likely_same
    # low information from a noisy pHash alone: the other algorithms still decide
    noisy = compare_hashes(
        hashes(0, 0, 0),
        hashes(0, 0, 0),
        (True, False),
        flat=(False, False),
        unstable_bits=({"phash": 40}, {"phash": 0}),
    )
    assert noisy.likely_same
    assert noisy.decided_by == ("ahash", "dhash")
    only_phash = compare_hashes(
        {"phash": Hash(0)}, {"phash": Hash(0)}, unstable_bits=({"phash": 9}, {"phash": 9})
    )
    assert only_phash.decided_by == ()
    assert not only_phash.likely_same  # identical, but nothing sound says so
