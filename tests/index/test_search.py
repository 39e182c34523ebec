"""Exact radius search against a brute-force oracle: no true match may ever be missed,
for 64-bit hashes (four 16-bit substrings) and PDQ's 256 bits (sixteen)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imghash import InvalidRequest
from imghash.index import HashIndex


def oracle(values: list[int], query: int, k: int) -> list[tuple[int, int]]:
    found = [(i, (v ^ query).bit_count()) for i, v in enumerate(values)]
    return sorted(((i, d) for i, d in found if d <= k), key=lambda x: (x[1], x[0]))


def oracle_many(values: list[int], queries: list[int], k: int) -> list[tuple[int, int, int]]:
    """Each value at its nearest query (the first of equals), nearest first, by position."""
    found = []
    for i, v in enumerate(values):
        distance, which = min(((v ^ q).bit_count(), w) for w, q in enumerate(queries))
        if distance <= k:
            found.append((i, distance, which))
    return sorted(found, key=lambda x: (x[1], x[0]))


def probed(index: HashIndex, query: int, k: int) -> list[tuple[int, int]]:
    """What the multi-index tables alone find, whether or not search would scan instead."""
    positions, distances = index.probe(query, k)
    return sorted(zip(positions.tolist(), distances.tolist(), strict=True), key=lambda x: x[::-1])


def flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def random_hashes(rng: np.random.Generator, size: int, width: int) -> list[int]:
    words = rng.integers(0, 2**64, (size, width // 64), dtype=np.uint64, endpoint=False)
    return [int.from_bytes(row.astype(">u8").tobytes(), "big") for row in words]


def planted(seed: int, size: int, k: int, width: int = 64) -> tuple[list[int], int]:
    """Random hashes plus neighbours of the query at every distance 0..k+1, duplicates too."""
    rng = np.random.default_rng(seed)
    values = random_hashes(rng, size, width)
    (query,) = random_hashes(rng, 1, width)
    for distance in range(k + 2):
        for _ in range(3):
            bits = rng.choice(width, distance, replace=False).tolist()
            values.insert(int(rng.integers(0, len(values))), flip(query, bits))
    values += [query, query, 0, 2**width - 1]
    return values, query


WIDTH_KS = [(64, k) for k in (0, 1, 3, 4, 7, 8, 10, 12, 15, 16)] + [
    (256, k) for k in (0, 1, 15, 16, 30, 31, 32, 47, 64)
]


@pytest.mark.parametrize("mih_threshold", [1, 10**9])  # always multi-index, never
@pytest.mark.parametrize(("width", "k"), WIDTH_KS)
def test_planted_neighbours_are_all_found(mih_threshold: int, width: int, k: int) -> None:
    values, query = planted(seed=k, size=20_000 if width == 64 else 5_000, k=k, width=width)
    index = HashIndex(values, width=width, mih_threshold=mih_threshold)
    assert index.search(query, k) == oracle(values, query, k)
    if mih_threshold == 1:
        assert probed(index, query, k) == oracle(values, query, k)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=300),
    query=st.integers(0, 2**64 - 1),
    k=st.integers(0, 16),
    limit=st.one_of(st.none(), st.integers(1, 20)),
)
def test_any_index_matches_the_oracle(
    values: list[int], query: int, k: int, limit: int | None
) -> None:
    near = [flip(query, list(range(d))) for d in range(0, 18, 3)]
    values = values + near + values[:5]
    expected = oracle(values, query, k)[:limit]
    for threshold in (1, 10**9):
        assert HashIndex(values, mih_threshold=threshold).search(query, k, limit) == expected
    assert probed(HashIndex(values, mih_threshold=1), query, k)[:limit] == expected


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(0, 2**256 - 1), min_size=1, max_size=200),
    query=st.integers(0, 2**256 - 1),
    k=st.integers(0, 64),
    limit=st.one_of(st.none(), st.integers(1, 20)),
    spread=st.randoms(use_true_random=False),
)
def test_any_pdq_index_matches_the_oracle(
    values: list[int], query: int, k: int, limit: int | None, spread: object
) -> None:
    # Neighbours every 4 bits up to 66, their flipped bits spread over all the substrings.
    bits = list(range(256))
    spread.shuffle(bits)  # type: ignore[attr-defined]
    near = [flip(query, bits[:d]) for d in range(0, 67, 4)]
    values = values + near + values[:5]
    expected = oracle(values, query, k)[:limit]
    for threshold in (10**9, 1):
        index = HashIndex(values, width=256, mih_threshold=threshold)
        assert index.search(query, k, limit) == expected
    assert probed(index, query, k)[:limit] == expected


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    width=st.sampled_from([64, 256]),
    orientations=st.integers(1, 8),
    duplicate=st.booleans(),
    limit=st.one_of(st.none(), st.integers(1, 12)),
    data=st.data(),
)
def test_several_queries_match_the_oracle(
    seed: int,
    width: int,
    orientations: int,
    duplicate: bool,
    limit: int | None,
    data: st.DataObject,
) -> None:
    """A dihedral search's shape: up to eight queries (some equal), neighbours planted
    around each, some near two queries; each hash at its nearest query."""
    k = data.draw(st.integers(0, width // 4))
    rng = np.random.default_rng(seed)
    queries = random_hashes(rng, orientations, width)
    if duplicate:
        queries.append(queries[0])
    values = random_hashes(rng, 150, width)
    for query in queries:
        for distance in rng.integers(0, k + 3, 6).tolist():
            values.append(flip(query, rng.choice(width, distance, replace=False).tolist()))
    # Between two queries: near both, at different distances.
    values.append(flip(queries[-1], rng.choice(width, k // 2, replace=False).tolist()))
    expected = oracle_many(values, queries, k)[:limit]
    for threshold in (10**9, 1):
        index = HashIndex(values, width=width, mih_threshold=threshold)
        assert index.search_many(queries, k, limit) == expected
    for which, query in enumerate(queries):
        assert probed(index, query, k) == oracle(values, query, k), which


@pytest.mark.parametrize("width", [64, 256])
@pytest.mark.parametrize("which", [0, -1])
def test_degenerate_hashes(width: int, which: int) -> None:
    query = [0, 2**width - 1][which]
    values = [0] * 10 + [2**width - 1] * 10 + [1, 3, 2 ** (width - 1)]
    k = width // 4
    for threshold in (10**9, 1):
        index = HashIndex(values, width=width, mih_threshold=threshold)
        assert index.search(query, k) == oracle(values, query, k)
    assert probed(index, query, k) == oracle(values, query, k)


def test_large_index_uses_tables_and_stays_exact() -> None:
    values, query = planted(seed=99, size=200_000, k=10)
    index = HashIndex(np.array(values, dtype=np.uint64))
    assert index._tables is not None
    assert index.search(query, 10) == oracle(values, query, 10)


def test_large_pdq_index_uses_tables_and_stays_exact() -> None:
    values, query = planted(seed=98, size=60_000, k=31, width=256)
    # As an array: n rows of four 64-bit words, most significant first.
    rows = [[(v >> s) & (2**64 - 1) for s in (192, 128, 64, 0)] for v in values]
    index = HashIndex(np.array(rows, dtype=np.uint64), width=256)
    assert index._tables is not None
    assert index._tables.parts == 16
    assert index._tables.candidate_count(query, 1) * 4 < len(index)  # the tables answer
    assert index.search(query, 31) == oracle(values, query, 31)


@pytest.mark.parametrize(
    ("width", "k", "limit"), [(64, -1, None), (64, 17, None), (64, 5, 0), (256, 65, None)]
)
def test_bad_arguments(width: int, k: int, limit: int | None) -> None:
    with pytest.raises(InvalidRequest, match=f"0..{width // 4} for {width}-bit|limit"):
        HashIndex([1, 2, 3], width=width).search(0, k, limit)


def test_only_64_or_256_bits() -> None:
    with pytest.raises(InvalidRequest, match="64 or 256 bits"):
        HashIndex([1], width=128)


@pytest.mark.parametrize("width", [64, 256])
def test_empty_index(width: int) -> None:
    assert HashIndex([], width=width).search(0, width // 4) == []
    assert HashIndex([], width=width).search_many([0, 1], width // 4) == []
