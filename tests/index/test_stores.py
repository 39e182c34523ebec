"""Every store adapter keeps the same contract: round trips, conditional writes, deletes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imghash import Hash
from imghash.index import IndexRecord, Store
from tests.index.conftest import STORES, make_store

HASHES = {"ahash": Hash(2**64 - 1), "dhash": Hash(0), "phash": Hash.from_hex("4edbd88c49eaf808")}


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return make_store(request.param, request, tmp_path)


def record(
    key: str = "a b/ç.jpg", version: str = "v1", sequencer: str = "", **more: Any
) -> IndexRecord:
    fields: dict[str, Any] = {"format": "jpeg", "width": 640, "height": 480, "hashes": HASHES}
    fields.update(more)
    return IndexRecord("bucket", key, version, 1234, "jimp", sequencer=sequencer, **fields)


def test_round_trip_keeps_every_field(store: Store) -> None:
    original = record(low_information=True)
    assert store.put(original)
    assert store.get("bucket", original.key) == original
    assert list(store.scan()) == [original]
    assert store.get("bucket", "missing") is None


def test_error_records_round_trip(store: Store) -> None:
    failed = IndexRecord(
        "bucket",
        "x.html",
        "v1",
        51,
        "jimp",
        error="unsupported_image",
        error_message="the input is an HTML page",
    )
    store.put(failed)
    assert store.get("bucket", "x.html") == failed


def test_same_version_again_is_not_a_write(store: Store) -> None:
    assert store.put(record())
    assert not store.put(record())
    assert store.put(record(version="v2"))  # the file changed: rewritten


def test_sequencers_order_the_writes(store: Store) -> None:
    assert store.put(record(sequencer="0002", version="new"))
    assert not store.put(record(sequencer="0001", version="old"))  # late delivery
    assert store.get("bucket", "a b/ç.jpg").version == "new"  # type: ignore[union-attr]
    assert store.put(record(sequencer="0003", version="newer"))


def test_deletes_respect_newer_writes(store: Store) -> None:
    store.put(record(sequencer="0005"))
    assert not store.delete("bucket", "a b/ç.jpg", "0004")  # a delete older than the write
    assert store.get("bucket", "a b/ç.jpg") is not None
    assert store.delete("bucket", "a b/ç.jpg", "0006")
    assert store.get("bucket", "a b/ç.jpg") is None
    assert not store.delete("bucket", "a b/ç.jpg", "0007")


def test_generation_moves_with_writes(store: Store) -> None:
    first = store.generation()
    store.put(record())
    if first is None:  # DynamoDB: searches refresh on a time limit instead
        assert store.generation() is None
        return
    second = store.generation()
    assert second != first
    store.put(record())  # not a write
    assert store.generation() == second


def test_another_profile_is_a_new_write(store: Store) -> None:
    assert store.put(record())
    again = IndexRecord("bucket", "a b/ç.jpg", "v1", 1234, "imagehash", hashes=HASHES)
    assert store.put(again)
    assert store.get("bucket", "a b/ç.jpg").profile == "imagehash"  # type: ignore[union-attr]
