"""Exact radius search against a brute-force oracle: no true match may ever be missed."""

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


def flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def planted(seed: int, size: int, k: int) -> tuple[list[int], int]:
    """Random hashes plus neighbours of the query at every distance 0..k+1, duplicates too."""
    rng = np.random.default_rng(seed)
    values = [int(v) for v in rng.integers(0, 2**64, size, dtype=np.uint64, endpoint=False)]
    query = int(rng.integers(0, 2**64, dtype=np.uint64, endpoint=False))
    for distance in range(k + 2):
        for _ in range(3):
            bits = rng.choice(64, distance, replace=False).tolist()
            values.insert(int(rng.integers(0, len(values))), flip(query, bits))
    values += [query, query, 0, 2**64 - 1]
    return values, query


@pytest.mark.parametrize("mih_threshold", [1, 10**9])  # always multi-index, never
@pytest.mark.parametrize("k", [0, 1, 3, 4, 7, 8, 10, 12, 15, 16])
def test_planted_neighbours_are_all_found(mih_threshold: int, k: int) -> None:
    values, query = planted(seed=k, size=20_000, k=k)
    index = HashIndex(values, mih_threshold=mih_threshold)
    assert index.search(query, k) == oracle(values, query, k)


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


@pytest.mark.parametrize("query", [0, 2**64 - 1])
def test_degenerate_hashes(query: int) -> None:
    values = [0] * 10 + [2**64 - 1] * 10 + [1, 3, 2**63]
    for threshold in (1, 10**9):
        index = HashIndex(values, mih_threshold=threshold)
        assert index.search(query, 16) == oracle(values, query, 16)


def test_large_index_uses_tables_and_stays_exact() -> None:
    values, query = planted(seed=99, size=200_000, k=10)
    index = HashIndex(np.array(values, dtype=np.uint64))
    assert index._tables is not None
    assert index.search(query, 10) == oracle(values, query, 10)


@pytest.mark.parametrize(("k", "limit"), [(-1, None), (17, None), (5, 0)])
def test_bad_arguments(k: int, limit: int | None) -> None:
    with pytest.raises(InvalidRequest):
        HashIndex([1, 2, 3]).search(0, k, limit)


def test_empty_index() -> None:
    assert HashIndex([]).search(0, 16) == []
