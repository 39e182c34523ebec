"""Search through every store against a brute-force oracle: in SQL (PostgreSQL, Aurora's
Data API) and in memory (the others), the same matches in the same order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imghash import Hash, InvalidRequest
from imghash.index import IndexRecord, PostgresStore, SearchService, Snapshot, Store
from tests.index.conftest import STORES, make_store

# Keys whose order differs between code points and a locale's collation ("Z" < "a" < "é").
KEYS = ["a", "Z", "é", "z", "ä/1", "A b", "写真", "a-b", "a_b", "ab"]


def oracle(
    records: list[IndexRecord], query: int, k: int, limit: int | None, algorithm: str = "phash"
) -> list[tuple[str, str, int]]:
    """Every record within k, by a full scan, nearest first, ties by bucket then key."""
    found = []
    for r in records:
        if r.error is None and r.profile == "jimp" and algorithm in r.hashes:
            distance = (r.hashes[algorithm].value ^ query).bit_count()
            if distance <= k:
                found.append((r.bucket, r.key, distance))
    found.sort(key=lambda m: (m[2], m[0], m[1]))
    return found[:limit]


def answers(
    service: SearchService, query: int, k: int, limit: int | None
) -> list[tuple[str, str, int]]:
    matches, _ = service.search(
        Hash(query), algorithm="phash", max_distance=k, limit=limit, profile="jimp"
    )
    return [(m["bucket"], m["key"], m["distance"]) for m in matches]


def flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def planted(seed: int, size: int) -> tuple[list[IndexRecord], int]:
    """Random records, neighbours of the query at every distance 0..17 (three each, under
    keys that tie), duplicates, all-zero and all-one hashes, other profiles and errors."""
    rng = np.random.default_rng(seed)
    query = int(rng.integers(0, 2**64, dtype=np.uint64))
    values = [int(v) for v in rng.integers(0, 2**64, size, dtype=np.uint64)]
    for distance in range(18):
        for _ in range(3):
            values.append(flip(query, rng.choice(64, distance, replace=False).tolist()))
    values += [query, query, 0, 2**64 - 1]
    records = []
    for i, value in enumerate(values):
        bucket = ["b1", "b2"][i % 2]
        key = f"{KEYS[i % len(KEYS)]}/{i // len(KEYS)}"
        hashes = {"phash": Hash(value), "ahash": Hash(value ^ 0xFF)}
        records.append(IndexRecord(bucket, key, "v1", 10, "jimp", hashes=hashes))
    near = Hash(query)
    records.append(IndexRecord("b1", "other-profile", "v1", 1, "imagehash", hashes={"phash": near}))
    records.append(IndexRecord("b1", "broken", "v1", 1, "jimp", error="unsupported_image"))
    return records, query


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return make_store(request.param, request, tmp_path)


def test_planted_neighbours_every_radius(store: Store) -> None:
    records, query = planted(seed=8, size=100)
    for record in records:
        store.put(record)
    snapshot = Snapshot.build(store, "jimp")  # the in-memory index over the same records
    service = SearchService(store)
    for k in range(17):
        expected = oracle(records, query, k, None)
        assert answers(service, query, k, None) == expected, k
        in_memory = snapshot.search(Hash(query), "phash", k, None)
        assert [(m["bucket"], m["key"], m["distance"]) for m in in_memory] == expected
    for limit in (1, 5, 40):
        assert answers(service, query, 12, limit) == oracle(records, query, 12, limit)
    assert answers(service, query ^ (2**64 - 1), 16, None) == oracle(
        records, query ^ (2**64 - 1), 16, None
    )


def test_the_count_is_of_hashed_records_of_the_profile(store: Store) -> None:
    records, query = planted(seed=3, size=20)
    for record in records:
        store.put(record)
    _, total = SearchService(store).search(
        Hash(query), algorithm="ahash", max_distance=0, limit=1, profile="jimp"
    )
    assert total == sum(r.error is None and r.profile == "jimp" for r in records)


@pytest.mark.parametrize(("k", "limit"), [(17, None), (-1, None), (4, 0)])
def test_bad_queries_are_refused(store: Store, k: int, limit: int | None) -> None:
    with pytest.raises(InvalidRequest):
        SearchService(store).search(
            Hash(1), algorithm="phash", max_distance=k, limit=limit, profile="jimp"
        )


def test_an_unknown_algorithm_is_refused(store: Store) -> None:
    with pytest.raises(InvalidRequest, match="unknown algorithm"):
        SearchService(store).search(
            Hash(1), algorithm="xhash", max_distance=4, limit=None, profile="jimp"
        )


_hash = st.integers(0, 2**64 - 1)
_operation = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 11), _hash, st.sampled_from(["jimp", "imagehash"])),
    st.tuples(st.just("near"), st.integers(0, 11), st.integers(0, 20), st.just("jimp")),
    st.tuples(st.just("delete"), st.integers(0, 11), st.just(0), st.just("")),
    st.tuples(st.just("fail"), st.integers(0, 11), st.just(0), st.just("jimp")),
)


@pytest.mark.parametrize("kind", STORES)
def test_any_history_of_writes_searches_like_the_oracle(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Puts, rewrites (another hash, profile, or an error), deletes; then searches. One
    store for all examples, with a model of its contents as the oracle's input."""
    store = make_store(kind, request, tmp_path)
    service = SearchService(store, ttl=0)  # DynamoDB's snapshot: rebuilt for every search
    model: dict[tuple[str, str], IndexRecord] = {}
    version = [0]

    @settings(
        max_examples=25 if kind == "dynamodb" else 40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        operations=st.lists(_operation, max_size=12),
        query=_hash,
        k=st.integers(0, 16),
        limit=st.one_of(st.none(), st.integers(1, 6)),
    )
    def check(operations: list[Any], query: int, k: int, limit: int | None) -> None:
        for action, slot, value, profile in operations:
            key = KEYS[slot % len(KEYS)] + ("" if slot < len(KEYS) else "/2")
            version[0] += 1
            if action == "delete":
                store.delete("b", key)
                model.pop(("b", key), None)
                continue
            if action == "near":  # a neighbour of the query at distance `value`
                value = flip(query, list(range(value)))
            fields: dict[str, Any] = (
                {"error": "unsupported_image"}
                if action == "fail"
                else {"hashes": {"phash": Hash(value)}}
            )
            record = IndexRecord("b", key, f"v{version[0]}", 1, profile, **fields)
            assert store.put(record)
            model["b", key] = record
        assert answers(service, query, k, limit) == oracle(list(model.values()), query, k, limit)

    check()


def test_sql_stores_say_they_search(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from imghash.index import SearchingStore

    for kind in STORES:
        found = make_store(kind, request, tmp_path / kind)
        assert isinstance(found, SearchingStore) == isinstance(found, PostgresStore), kind
