"""The S3 trigger end to end with moto: upload, event, handler, record; and search after it."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import imghash
from imghash import Settings
from imghash.index import (
    HEADER_BYTES,
    DynamoStore,
    PostgresStore,
    RetryLater,
    S3Indexer,
    SearchService,
    Store,
    index_handler,
)
from tests.functions.test_handlers import Context, handler_module
from tests.helpers import encode, photo_like
from tests.index.conftest import BUCKET, TABLE, make_store
from tests.pdq_oracle import oracle_hash

ROOT = Path(__file__).resolve().parents[2]
SEED = {"ahash": "fcfffff310100000", "dhash": "313c156666e4e584", "phash": "4edbd88c49eaf808"}
KEY1 = "images/holiday photos/DSCN0010.jpg"
KEY2 = "images/café naïve/写真 1.png"


def event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "events" / name).read_text())
    return data


class CountingS3:
    """The real (moto) client, with a count of the GETs each key received."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.gets: list[tuple[str, str | None]] = []

    def get_object(self, **args: Any) -> Any:
        self.gets.append((args["Key"], args.get("Range")))
        return self.client.get_object(**args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def seed(corpus: Path) -> bytes:
    return (corpus / "photos" / "DSCN0010.jpg").read_bytes()


def seed_pdq(seed: bytes) -> tuple[str, int]:
    """The seed photo's PDQ hash and quality, by Meta's C++ reference (pdqhash)."""
    with Image.open(io.BytesIO(seed)) as image:
        found = oracle_hash(np.asarray(image.convert("RGB")))
    return f"{found.value:064x}", found.quality


@pytest.fixture(params=["dynamodb", "sqlite", "postgres", "aurora"])
def store(request: pytest.FixtureRequest, aws: dict[str, Any], tmp_path: Path) -> Store:
    """Each scenario runs against the AWS table, the embedded SQLite file, a real
    PostgreSQL, and Aurora's Data API (served by that PostgreSQL)."""
    return make_store(request.param, request, tmp_path)


def make_indexer(
    aws: dict[str, Any], store: Any, settings: Settings | None = None
) -> tuple[S3Indexer, Any, CountingS3]:
    s3 = CountingS3(aws["s3"])
    return S3Indexer(store, settings or Settings(index_prefix="images/"), s3=s3), store, s3


def put_event(key: str, size: int, sequencer: str = "0055AED6DCD90281E5") -> dict[str, Any]:
    found = copy.deepcopy(event("s3_put.json"))
    found["Records"] = found["Records"][:1]
    obj = found["Records"][0]["s3"]["object"]
    obj.update({"key": key.replace(" ", "+"), "size": size, "sequencer": sequencer})
    return found


def test_put_event_indexes_every_record(aws: dict[str, Any], store: Store, seed: bytes) -> None:
    indexer, store, _ = make_indexer(aws, store)
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY1, Body=seed)
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY2, Body=encode(photo_like(), "PNG"))
    counts = index_handler(indexer)(event("s3_put.json"), None)
    assert counts == {
        "indexed": 2,
        "not_images": 0,
        "unchanged": 0,
        "removed": 0,
        "skipped": 0,
        "failed": 0,
        "failures": [],
    }
    first = store.get(BUCKET, KEY1)  # the key URL-decoded: spaces, not '+'
    assert first is not None
    pdq, quality = seed_pdq(seed)
    assert {n: h.hex() for n, h in first.hashes.items()} == SEED | {"pdq": pdq}
    assert first.quality == {"pdq": quality}
    assert (first.width, first.height, first.format, first.size) == (640, 480, "jpeg", len(seed))
    assert first.version == "0123456789abcdef0123456789abcdef"
    if isinstance(store, DynamoStore):  # as the table holds it: signed int64 and hex
        item = aws["dynamodb"].get_item(TableName=TABLE, Key={"id": {"S": f"{BUCKET}/{KEY1}"}})
        assert item["Item"]["phash"]["N"] == str(imghash.Hash.from_hex(SEED["phash"]).signed)
        assert item["Item"]["phash_hex"]["S"] == SEED["phash"]
    assert store.get(BUCKET, KEY2) is not None  # non-ASCII key decoded


class CountingStore:
    """The real store, with the answer of every conditional write."""

    def __init__(self, store: DynamoStore) -> None:
        self.store = store
        self.writes: list[bool] = []

    def put(self, record: Any) -> bool:
        self.writes.append(self.store.put(record))
        return self.writes[-1]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_the_same_event_twice_is_harmless(aws: dict[str, Any], store: Store, seed: bytes) -> None:
    store = CountingStore(store)  # type: ignore[assignment]
    indexer = S3Indexer(store, Settings(index_prefix="images/"), s3=aws["s3"])
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY1, Body=seed)
    handler = index_handler(indexer)
    handler(put_event(KEY1, len(seed)), None)
    before = store.get(BUCKET, KEY1)
    handler(put_event(KEY1, len(seed)), None)  # re-delivered
    handler(put_event(KEY1, len(seed), sequencer="0055AED6DCD90281E0"), None)  # late, older
    assert store.writes == [True, False, False]
    assert store.get(BUCKET, KEY1) == before
    assert len(list(store.scan())) == 1


def test_delete_event_removes_the_record(aws: dict[str, Any], store: Store, seed: bytes) -> None:
    indexer, store, _ = make_indexer(aws, store)
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY1, Body=seed)
    handler = index_handler(indexer)
    handler(put_event(KEY1, len(seed)), None)
    assert handler(event("s3_delete.json"), None)["removed"] == 1
    assert store.get(BUCKET, KEY1) is None
    assert handler(event("s3_delete.json"), None)["removed"] == 0  # again: nothing left


def test_a_non_image_is_recorded_with_its_code(aws: dict[str, Any], store: Store) -> None:
    indexer, store, _ = make_indexer(aws, store)
    body = b"<!doctype html><html><body>not a picture</body></html>"
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY1, Body=body)
    counts = index_handler(indexer)(put_event(KEY1, len(body)), None)
    assert counts["not_images"] == 1
    record = store.get(BUCKET, KEY1)
    assert record is not None
    assert record.error == "unsupported_image"
    assert record.hashes == {}


def test_oversized_objects_are_not_downloaded(
    aws: dict[str, Any], store: Store, corpus: Path
) -> None:
    indexer, store, s3 = make_indexer(
        aws, store, Settings(index_prefix="images/", max_bytes=1_000_000)
    )
    # Over the byte limit by its size in the event: not even a ranged GET.
    aws["s3"].put_object(Bucket=BUCKET, Key="images/big.jpg", Body=b"\xff\xd8\xff" + b"\0" * 10)
    index_handler(indexer)(put_event("images/big.jpg", 5_000_000), None)
    assert store.get(BUCKET, "images/big.jpg").error == "too_large"  # type: ignore[union-attr]
    assert s3.gets == []
    # Over the pixel limit by its header: only the header's ranged GET.
    bomb = (corpus / "bad" / "bomb_40000x40000.png").read_bytes()
    assert len(bomb) > HEADER_BYTES
    aws["s3"].put_object(Bucket=BUCKET, Key="images/bomb.png", Body=bomb)
    index_handler(indexer)(put_event("images/bomb.png", len(bomb)), None)
    assert store.get(BUCKET, "images/bomb.png").error == "too_large"  # type: ignore[union-attr]
    assert s3.gets == [("images/bomb.png", f"bytes=0-{HEADER_BYTES - 1}")]


def test_keys_outside_the_prefix_are_skipped(
    aws: dict[str, Any], store: Store, seed: bytes
) -> None:
    indexer, store, _ = make_indexer(aws, store)
    aws["s3"].put_object(Bucket=BUCKET, Key="elsewhere/a.jpg", Body=seed)
    assert index_handler(indexer)(put_event("elsewhere/a.jpg", len(seed)), None)["skipped"] == 1
    assert list(store.scan()) == []


class FlakyS3:
    def __init__(self, code: str, status: int) -> None:
        from botocore.exceptions import ClientError

        self.error = ClientError(
            {
                "Error": {"Code": code, "Message": "x"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "GetObject",
        )

    def get_object(self, **args: Any) -> Any:
        raise self.error


def test_transient_failures_are_raised_for_a_retry(aws: dict[str, Any]) -> None:
    store = DynamoStore(TABLE, client=aws["dynamodb"])
    indexer = S3Indexer(store, Settings(), s3=FlakyS3("SlowDown", 503))
    with pytest.raises(RetryLater, match="SlowDown"):
        index_handler(indexer)(put_event(KEY1, 100), None)
    assert list(store.scan()) == []


def test_a_vanished_object_is_skipped(aws: dict[str, Any], store: Store) -> None:
    indexer, store, _ = make_indexer(aws, store)
    counts = index_handler(indexer)(put_event(KEY1, 100), None)  # never uploaded
    assert counts["skipped"] == 1
    assert list(store.scan()) == []


def test_batch_operations_backfill(aws: dict[str, Any], store: Store, seed: bytes) -> None:
    indexer, store, _ = make_indexer(aws, store)
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY1, Body=seed)
    answer = index_handler(indexer)(event("s3_batch.json"), None)
    assert answer["invocationSchemaVersion"] == "2.0"
    assert answer["treatMissingKeysAs"] == "PermanentFailure"
    assert answer["invocationId"] == event("s3_batch.json")["invocationId"]
    assert [(r["resultCode"], r["resultString"]) for r in answer["results"]] == [
        ("Succeeded", "indexed"),
        ("PermanentFailure", "NoSuchKey"),
    ]
    record = store.get(BUCKET, KEY1)
    assert record is not None
    assert record.hashes["phash"].hex() == SEED["phash"]


def resized_copy(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        smaller = image.convert("RGB").resize((400, 300), Image.Resampling.BILINEAR)
    return encode(smaller, "JPEG", quality=70)


def test_search_finds_a_resized_recompressed_copy_only(
    aws: dict[str, Any], store: Store, corpus: Path, seed: bytes
) -> None:
    indexer, store, _ = make_indexer(aws, store)
    photos = ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg", "canon-ixus.jpg", "sony-d700.jpg"]
    for name in photos:
        body = (corpus / "photos" / name).read_bytes()
        key = f"images/{name}"
        aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)
        index_handler(indexer)(put_event(key, len(body)), None)
    query = imghash.hash_image(resized_copy(seed))
    matches, total = SearchService(store).search(
        query.hashes["phash"], algorithm="phash", max_distance=10, limit=None, profile="jimp"
    )
    assert total == len(photos)
    assert [m["key"] for m in matches] == ["images/DSCN0010.jpg"]
    assert matches[0]["distance"] <= 4


def test_pdq_search_finds_a_mirrored_copy_only_with_dihedral(
    aws: dict[str, Any], store: Store, corpus: Path, seed: bytes
) -> None:
    indexer, store, _ = make_indexer(aws, store)
    photos = ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg", "canon-ixus.jpg", "sony-d700.jpg"]
    for name in photos:
        body = (corpus / "photos" / name).read_bytes()
        key = f"images/{name}"
        aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)
        index_handler(indexer)(put_event(key, len(body)), None)
    with Image.open(io.BytesIO(resized_copy(seed))) as image:
        mirrored = encode(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), "JPEG", quality=80)
    service = SearchService(store)
    plain = imghash.hash_image(mirrored, algorithms="pdq").hashes["pdq"]
    found, total = service.search(
        plain, algorithm="pdq", max_distance=31, limit=None, profile="jimp"
    )
    assert (found, total) == ([], len(photos))  # mirrored: far from every photo
    eight = dict(zip(imghash.DIHEDRAL, imghash.dihedral_hashes(mirrored), strict=True))
    found, _ = service.search(eight, algorithm="pdq", max_distance=31, limit=None, profile="jimp")
    assert [(m["key"], m["orientation"]) for m in found] == [("images/DSCN0010.jpg", "flipy")]
    assert found[0]["distance"] <= 16
    assert found[0]["quality"]["pdq"] >= 80


def test_search_snapshot_is_refreshed_after_its_ttl(aws: dict[str, Any], seed: bytes) -> None:
    # DynamoDB cannot say cheaply that it changed: its snapshot lives for the TTL.
    indexer, store, _ = make_indexer(aws, DynamoStore(TABLE, client=aws["dynamodb"]))
    now = [1000.0]
    service = SearchService(store, ttl=60, clock=lambda: now[0])
    query = imghash.Hash.from_hex(SEED["phash"])

    def found() -> int:
        return len(
            service.search(query, algorithm="phash", max_distance=4, limit=None, profile="jimp")[0]
        )

    assert found() == 0
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY1, Body=seed)
    index_handler(indexer)(put_event(KEY1, len(seed)), None)
    now[0] += 59
    assert found() == 0  # the snapshot is still fresh
    now[0] += 2
    assert found() == 1  # rebuilt from the table


def test_the_deployed_functions_end_to_end(
    aws: dict[str, Any], seed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in AWS: settings from the environment, clients made by the functions themselves.
    monkeypatch.setenv("IMGHASH_TABLE", TABLE)
    monkeypatch.setenv("IMGHASH_INDEX_PREFIX", "images/")
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY1, Body=seed)
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY2, Body=encode(photo_like(), "PNG"))
    assert handler_module("index").handler(event("s3_put.json"), None)["indexed"] == 2
    search = handler_module("search").handler
    answer = search(event("search_get.json"), Context())
    body = json.loads(answer["body"])
    assert answer["statusCode"] == 200, body
    assert [m["key"] for m in body["data"]["matches"]] == [KEY1]
    assert body["data"]["matches"][0]["hashes"] == SEED | {"pdq": seed_pdq(seed)[0]}
    assert body["data"]["indexed"] == 2


@pytest.mark.parametrize("kind", ["postgres", "aurora"])
def test_a_new_image_is_found_as_soon_as_it_is_indexed(
    kind: str, aws: dict[str, Any], seed: bytes, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # The store searches itself: no snapshot, no TTL, nothing to wait for.
    indexer, store, _ = make_indexer(aws, make_store(kind, request, tmp_path))
    service = SearchService(store, ttl=3600)
    query = imghash.Hash.from_hex(SEED["phash"])

    def found() -> list[str]:
        matches, _ = service.search(
            query, algorithm="phash", max_distance=4, limit=None, profile="jimp"
        )
        return [m["key"] for m in matches]

    assert found() == []
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY1, Body=seed)
    index_handler(indexer)(put_event(KEY1, len(seed)), None)
    assert found() == [KEY1]
    index_handler(indexer)(event("s3_delete.json"), None)
    assert found() == []


def test_the_deployed_functions_on_aurora_answer_at_once(
    aws: dict[str, Any], seed: bytes, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    # As in AWS with IndexEngine=aurora: settings from the environment, Data API clients
    # made by the functions themselves (their session answered by the test server).
    import boto3

    from tests.pg import CLUSTER_ARN, DATABASE, SECRET_ARN, DataApiOnPostgres

    service = DataApiOnPostgres(pg_url)
    boto3.setup_default_session(region_name="eu-west-1")
    service.attach(boto3.DEFAULT_SESSION.events)  # type: ignore[union-attr]
    try:
        monkeypatch.setenv("IMGHASH_AURORA_CLUSTER_ARN", CLUSTER_ARN)
        monkeypatch.setenv("IMGHASH_AURORA_SECRET_ARN", SECRET_ARN)
        monkeypatch.setenv("IMGHASH_AURORA_DATABASE", DATABASE)
        monkeypatch.setenv("IMGHASH_INDEX_PREFIX", "images/")
        # Deploy time: the IndexSchema resource makes the schema (the functions make none).
        PostgresStore.data_api(Settings.from_environ(), manage_schema=True).setup()
        search = handler_module("search").handler
        index = handler_module("index").handler

        def keys() -> list[str]:
            answer = search(event("search_get.json"), Context())
            body = json.loads(answer["body"])
            assert answer["statusCode"] == 200, body
            return [m["key"] for m in body["data"]["matches"]]

        assert keys() == []
        aws["s3"].put_object(Bucket=BUCKET, Key=KEY1, Body=seed)
        aws["s3"].put_object(Bucket=BUCKET, Key=KEY2, Body=encode(photo_like(), "PNG"))
        assert index(event("s3_put.json"), None)["indexed"] == 2
        assert keys() == [KEY1]  # the same search function, the very next request
        assert all(r["resourceArn"] == CLUSTER_ARN for r in service.requests)
        assert not any("FROM records r WHERE r.id >" in r["sql"] for r in service.requests)
    finally:
        boto3.DEFAULT_SESSION = None
        service.close()
