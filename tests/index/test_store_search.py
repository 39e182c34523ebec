"""Search through every store against a brute-force oracle: in SQL (PostgreSQL, Aurora's
Data API) and in memory (the others), the same matches in the same order; for the
64-bit hashes and PDQ's 256 bits, with one query or a dihedral search's eight."""

from __future__ import annotations

from collections.abc import Mapping
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
WIDTH = {"ahash": 64, "dhash": 64, "phash": 64, "pdq": 256}
#: The names a dihedral search's eight queries go by (any names do for the service).
ORIENTATIONS = ("original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "p1", "m1")
#: PDQ radii checked: around each substring's step (16 substrings: radius k // 16),
#: Meta's threshold 31, and the largest accepted, 64.
PDQ_KS = (0, 1, 2, 15, 16, 17, 30, 31, 32, 33, 47, 48, 63, 64)

Query = int | Mapping[str, int]


def oracle(
    records: list[IndexRecord], query: Query, k: int, limit: int | None, algorithm: str = "phash"
) -> list[tuple[Any, ...]]:
    """Every record within k, by a full scan, nearest first, ties by bucket then key; for
    several named queries, each record at its nearest, named (the first of equals)."""
    named = {"": query} if isinstance(query, int) else dict(query)
    found = []
    for r in records:
        if r.error is None and r.profile == "jimp" and algorithm in r.hashes:
            value = r.hashes[algorithm].value
            distance, _, name = min(
                ((value ^ q).bit_count(), i, name) for i, (name, q) in enumerate(named.items())
            )
            if distance <= k:
                found.append((r.bucket, r.key, distance, name))
    found.sort(key=lambda m: (m[2], m[0], m[1]))
    return [m[:3] if isinstance(query, int) else m for m in found[:limit]]


def answers(
    service: SearchService, query: Query, k: int, limit: int | None, algorithm: str = "phash"
) -> list[tuple[Any, ...]]:
    width = WIDTH[algorithm]
    given: Hash | dict[str, Hash] = (
        Hash(query, width)
        if isinstance(query, int)
        else {name: Hash(value, width) for name, value in query.items()}
    )
    matches, _ = service.search(
        given, algorithm=algorithm, max_distance=k, limit=limit, profile="jimp"
    )
    if isinstance(query, int):
        assert all("orientation" not in m for m in matches)
        return [(m["bucket"], m["key"], m["distance"]) for m in matches]
    return [(m["bucket"], m["key"], m["distance"], m["orientation"]) for m in matches]


def flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def random_hash(rng: np.random.Generator, width: int) -> int:
    return int.from_bytes(rng.bytes(width // 8), "big")


def near(rng: np.random.Generator, value: int, distance: int, width: int) -> int:
    return flip(value, rng.choice(width, distance, replace=False).tolist())


def pdq_query(query: int) -> int:
    """The PDQ query of a planted set, made from its 64-bit one."""
    return random_hash(np.random.default_rng(query), 256)


def planted(seed: int, size: int) -> tuple[list[IndexRecord], int]:
    """Random records, neighbours of the query at every distance 0..17 (three each, under
    keys that tie), duplicates, all-zero and all-one hashes, other profiles and errors.
    Each record has a PDQ hash too: neighbours of :func:`pdq_query` at every distance
    0..33 and around 47/48 and 63/64, three each, the others random."""
    rng = np.random.default_rng(seed)
    query = random_hash(rng, 64)
    values = [random_hash(rng, 64) for _ in range(size)]
    for distance in range(18):
        for _ in range(3):
            values.append(near(rng, query, distance, 64))
    values += [query, query, 0, 2**64 - 1]
    wide = pdq_query(query)
    pdq = [near(rng, wide, d, 256) for d in [*range(34), 46, 47, 48, 49, 63, 64, 65] for _ in "abc"]
    pdq += [wide, 0, 2**256 - 1]
    pdq += [random_hash(rng, 256) for _ in range(len(values) - len(pdq))]
    order = rng.permutation(len(values))
    records = []
    for i, value in enumerate(values):
        bucket = ["b1", "b2"][i % 2]
        key = f"{KEYS[i % len(KEYS)]}/{i // len(KEYS)}"
        hashes = {
            "phash": Hash(value),
            "ahash": Hash(value ^ 0xFF),
            "pdq": Hash(pdq[order[i]], 256),
        }
        quality = {"pdq": int(rng.integers(0, 101))}
        records.append(IndexRecord(bucket, key, "v1", 10, "jimp", hashes=hashes, quality=quality))
    near_hashes = {"phash": Hash(query), "pdq": Hash(wide, 256)}
    records.append(IndexRecord("b1", "other-profile", "v1", 1, "imagehash", hashes=near_hashes))
    records.append(IndexRecord("b1", "broken", "v1", 1, "jimp", error="unsupported_image"))
    return records, query


def orientations(seed: int, width: int) -> dict[str, int]:
    """Eight query hashes as a dihedral search has: one equal to the first (a symmetric
    image), one within a few bits of another; the rest unrelated."""
    rng = np.random.default_rng(seed)
    values = [random_hash(rng, width) for _ in ORIENTATIONS]
    values[2] = values[0]
    values[5] = near(rng, values[4], 3, width)
    return dict(zip(ORIENTATIONS, values, strict=True))


def turned(seed: int, width: int, algorithm: str, k: int) -> list[IndexRecord]:
    """Records near each of :func:`orientations`: at every distance 0..k+2 of one of them,
    some near two at once."""
    rng = np.random.default_rng(seed + 1)
    queries = list(orientations(seed, width).values())
    records = []
    for n in range(k + 3):
        for i, target in enumerate(queries):
            if rng.random() < 0.5:
                value = near(rng, target, n, width)
                key = f"{KEYS[(n + i) % len(KEYS)]}/{n}/{i}"
                hashes = {algorithm: Hash(value, width)}
                records.append(
                    IndexRecord(["b1", "b2"][n % 2], key, "v1", 1, "jimp", hashes=hashes)
                )
    return records


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return make_store(request.param, request, tmp_path)


def test_planted_neighbours_every_radius(store: Store) -> None:
    records, query = planted(seed=8, size=100)
    for record in records:
        store.put(record)
    snapshot = Snapshot.build(store, "jimp")  # the in-memory index over the same records
    service = SearchService(store)
    for algorithm, q, ks in (("phash", query, range(17)), ("pdq", pdq_query(query), PDQ_KS)):
        width = WIDTH[algorithm]
        for k in ks:
            expected = oracle(records, q, k, None, algorithm)
            assert answers(service, q, k, None, algorithm) == expected, (algorithm, k)
            in_memory = snapshot.search([Hash(q, width)], algorithm, k, None)
            assert [(r.bucket, r.key, d) for r, d, _ in in_memory] == expected
        for limit in (1, 5, 40):
            k = width // 4 - 4
            assert answers(service, q, k, limit, algorithm) == oracle(
                records, q, k, limit, algorithm
            )
        opposite = q ^ (2**width - 1)
        k = width // 4
        assert answers(service, opposite, k, None, algorithm) == oracle(
            records, opposite, k, None, algorithm
        )


def test_pdq_matches_carry_their_quality(store: Store) -> None:
    records, query = planted(seed=4, size=10)
    for record in records:
        store.put(record)
    matches, _ = SearchService(store).search(
        Hash(pdq_query(query), 256), algorithm="pdq", max_distance=10, limit=None, profile="jimp"
    )
    by_key = {(r.bucket, r.key): r for r in records}
    assert len(matches) >= 3 * 11
    for match in matches:
        found = by_key[match["bucket"], match["key"]]
        assert match["quality"] == {"pdq": found.quality["pdq"]}
        assert match["hashes"]["pdq"] == found.hashes["pdq"].hex()


@pytest.mark.parametrize(("algorithm", "k"), [("phash", 12), ("phash", 16), ("pdq", 31)])
def test_dihedral_search_is_exact(store: Store, algorithm: str, k: int) -> None:
    """Eight queries, deduplicated: each record at its nearest orientation, named."""
    width = WIDTH[algorithm]
    records = turned(seed=k, width=width, algorithm=algorithm, k=k)
    records += planted(seed=k, size=30)[0]  # unrelated records, of every algorithm
    for record in records:
        store.put(record)
    service = SearchService(store)
    queries = orientations(seed=k, width=width)
    for radius in (0, 3, k // 2, k):
        expected = oracle(records, queries, radius, None, algorithm)
        assert answers(service, queries, radius, None, algorithm) == expected, radius
    assert {m[3] for m in expected} >= {"original", "rotate90", "flipy", "flipx"}
    assert "rotate180" not in {m[3] for m in expected}  # the original's equal: named first
    for limit in (1, 7, 30):
        found = answers(service, queries, k, limit, algorithm)
        assert found == oracle(records, queries, k, limit, algorithm)


@pytest.mark.parametrize(
    ("algorithm", "query", "k", "match"),
    [
        ("phash", Hash(1), 17, "0..16 for 64-bit"),
        ("phash", Hash(1), -1, "0..16"),
        ("pdq", Hash(1, 256), 65, "0..64 for 256-bit"),
        ("pdq", Hash(1), 31, "a pdq hash is 256 bits"),
        ("phash", Hash(1, 256), 4, "a phash hash is 64 bits"),
        ("phash", {}, 4, "needs a query hash"),
    ],
)
def test_bad_queries_are_refused(
    store: Store, algorithm: str, query: Any, k: int, match: str
) -> None:
    with pytest.raises(InvalidRequest, match=match):
        SearchService(store).search(
            query, algorithm=algorithm, max_distance=k, limit=None, profile="jimp"
        )
    with pytest.raises(InvalidRequest, match="limit=0"):
        SearchService(store).search(
            Hash(1), algorithm="phash", max_distance=4, limit=0, profile="jimp"
        )


def test_the_count_is_of_hashed_records_of_the_profile(store: Store) -> None:
    records, query = planted(seed=3, size=20)
    for record in records:
        store.put(record)
    _, total = SearchService(store).search(
        Hash(query), algorithm="ahash", max_distance=0, limit=1, profile="jimp"
    )
    assert total == sum(r.error is None and r.profile == "jimp" for r in records)


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
    """Puts, rewrites (another hash, profile, or an error), deletes; then searches, on
    pHash and PDQ, with one query and with eight. One store for all examples, with a
    model of its contents as the oracle's input."""
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
        wide = pdq_query(query)
        for action, slot, value, profile in operations:
            key = KEYS[slot % len(KEYS)] + ("" if slot < len(KEYS) else "/2")
            version[0] += 1
            if action == "delete":
                store.delete("b", key)
                model.pop(("b", key), None)
                continue
            pdq = pdq_query(value) if action == "put" else flip(wide, list(range(value * 2)))
            if action == "near":  # a neighbour of the query at distance `value`
                value = flip(query, list(range(value)))
            fields: dict[str, Any] = (
                {"error": "unsupported_image"}
                if action == "fail"
                else {"hashes": {"phash": Hash(value), "pdq": Hash(pdq, 256)}}
            )
            record = IndexRecord("b", key, f"v{version[0]}", 1, profile, **fields)
            assert store.put(record)
            model["b", key] = record
        records = list(model.values())
        assert answers(service, query, k, limit) == oracle(records, query, k, limit)
        assert answers(service, wide, 2 * k, limit, "pdq") == oracle(
            records, wide, 2 * k, limit, "pdq"
        )
        # Eight queries: the query, its equal, and neighbours of it a few bits away.
        eight = {name: flip(wide, list(range(0, 3 * n, 2))) for n, name in enumerate(ORIENTATIONS)}
        eight["rotate180"] = wide
        assert answers(service, eight, 2 * k, limit, "pdq") == oracle(
            records, eight, 2 * k, limit, "pdq"
        )

    check()


def test_sql_stores_say_they_search(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from imghash.index import SearchingStore

    for kind in STORES:
        found = make_store(kind, request, tmp_path / kind)
        assert isinstance(found, SearchingStore) == isinstance(found, PostgresStore), kind
