"""Index records carry PDQ (issue 11): the indexer hashes every registry algorithm, and
every store takes such records and still answers searches of the 64-bit hashes."""

from __future__ import annotations

from pathlib import Path

import pytest

import imghash
from imghash import Settings
from imghash.index import SearchService
from imghash.index._indexer import ObjectRef
from tests.index.conftest import STORES, make_store


@pytest.fixture
def seed(corpus: Path) -> bytes:
    return (corpus / "photos" / "DSCN0010.jpg").read_bytes()


def test_a_record_holds_every_algorithms_hash(seed: bytes) -> None:
    ref = ObjectRef("bucket", "images/seed.jpg", "v1", len(seed), "", "jimp")
    record = ref.hashed(seed, Settings())
    assert list(record.hashes) == list(imghash.ALGORITHMS)  # pdq included
    expected = imghash.hash_image(seed, algorithms="all,pdq")
    assert record.hashes == expected.hashes
    assert len(record.hashes["pdq"]) == 256


@pytest.mark.parametrize("kind", STORES)
def test_every_store_takes_a_record_with_pdq_and_still_searches(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, seed: bytes
) -> None:
    store = make_store(kind, request, tmp_path)
    record = ObjectRef("bucket", "images/seed.jpg", "v1", len(seed), "", "jimp").hashed(
        seed, Settings()
    )
    assert store.put(record)
    kept = store.get("bucket", "images/seed.jpg")
    assert kept is not None
    for name in ("ahash", "dhash", "phash"):
        assert kept.hashes[name] == record.hashes[name]
    matches, total = SearchService(store).search(
        record.hashes["phash"], algorithm="phash", max_distance=0, limit=None, profile="jimp"
    )
    assert total == 1
    assert [m["key"] for m in matches] == ["images/seed.jpg"]
