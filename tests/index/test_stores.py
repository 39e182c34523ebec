"""Every store adapter keeps the same contract: round trips, conditional writes, deletes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imghash import Hash
from imghash.index import IndexRecord, Store
from tests.index.conftest import STORES, make_store

HASHES = {
    "ahash": Hash(2**64 - 1),
    "dhash": Hash(0),
    "phash": Hash.from_hex("4edbd88c49eaf808"),
    # PDQ's 256 bits, with its first and last bit set (no store may lose either end).
    "pdq": Hash(2**255 + 0x0123_4567_89AB_CDEF_F00D + 1, 256),
}
QUALITY = {"pdq": 87}


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return make_store(request.param, request, tmp_path)


def record(
    key: str = "a b/ç.jpg", version: str = "v1", sequencer: str = "", **more: Any
) -> IndexRecord:
    fields: dict[str, Any] = {
        "format": "jpeg",
        "width": 640,
        "height": 480,
        "hashes": HASHES,
        "quality": QUALITY,
    }
    fields.update(more)
    return IndexRecord("bucket", key, version, 1234, "jimp", sequencer=sequencer, **fields)


def test_round_trip_keeps_every_field(store: Store) -> None:
    original = record(low_information=True)
    assert store.put(original)
    assert store.get("bucket", original.key) == original
    assert list(store.scan()) == [original]
    assert store.get("bucket", "missing") is None


@pytest.mark.parametrize(
    ("hashes", "quality"),
    [
        ({"pdq": Hash(0, 256)}, {"pdq": 0}),  # all zero, quality 0: low information
        ({"pdq": Hash(2**256 - 1, 256), "phash": Hash(2**63)}, {"pdq": 100}),
        ({"phash": Hash(5)}, {}),  # a record of the seed's hashes alone
    ],
)
def test_every_width_and_quality_round_trips(
    store: Store, hashes: dict[str, Hash], quality: dict[str, int]
) -> None:
    original = record(hashes=hashes, quality=quality, low_information=quality == {"pdq": 0})
    assert store.put(original)
    assert store.get("bucket", original.key) == original
    assert list(store.scan()) == [original]
    # Rewritten without PDQ: its hash and quality go (no stale 256-bit row, in SQL too).
    rewritten = record(version="v2", hashes={"ahash": Hash(1)}, quality={})
    assert store.put(rewritten)
    assert store.get("bucket", original.key) == rewritten


def test_a_version_hashed_by_one_more_algorithm_is_rewritten(store: Store) -> None:
    """An index made before PDQ: indexing the same version again adds its PDQ hash; a
    writer that hashes fewer algorithms does not take it away."""
    before = record(hashes={"phash": HASHES["phash"]}, quality={})
    assert store.put(before)
    assert not store.put(before)
    after = record()  # the same version, with PDQ and every other algorithm
    assert store.put(after)
    assert store.get("bucket", after.key) == after
    assert not store.put(after)
    assert not store.put(before)  # fewer: not a write
    assert store.get("bucket", after.key) == after


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


def test_fast_mode_records_keep_their_mark_and_give_way_to_exact_ones(store: Store) -> None:
    """A record hashed in fast mode says so; the same version hashed exactly replaces it,
    and a fast one never replaces an exact one."""
    fast = record(fast=True, hashes={**HASHES, "phash": Hash(3)})
    assert store.put(fast)
    assert store.get("bucket", fast.key) == fast
    assert list(store.scan()) == [fast]
    assert not store.put(fast)  # the same again: nothing to do
    exact = record()
    assert store.put(exact)
    assert store.get("bucket", exact.key) == exact
    assert not store.put(fast)
    assert store.get("bucket", exact.key) == exact


def test_an_sqlite_file_made_before_fast_records_reads_and_gains_the_column(
    tmp_path: Path,
) -> None:
    import sqlite3
    from contextlib import closing

    from imghash.index import SQLiteStore

    path = tmp_path / "old.db"
    old = record()
    assert SQLiteStore(path).put(old)
    with closing(sqlite3.connect(path)) as db:  # as a version before fast records left it
        db.execute("ALTER TABLE records DROP COLUMN fast")
        db.commit()
    assert SQLiteStore(path, read_only=True).get("bucket", old.key) == old
    writer = SQLiteStore(path)
    assert writer.get("bucket", old.key) == old
    fast = record(key="new.jpg", fast=True)
    assert writer.put(fast)
    assert SQLiteStore(path, read_only=True).get("bucket", "new.jpg") == fast
