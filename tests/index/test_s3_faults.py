"""S3 and DynamoDB faults, injected into real (moto) clients, in every class (issue 10).

Each event holds a faulty object and a good one: the good one is always indexed. What a
retry can fix is raised at the end (Batch Operations: TemporaryFailure); what it cannot
is counted as failed with its code and the event goes on (PermanentFailure with the
code); the counts say what was written.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import urllib3.exceptions
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    ParamValidationError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from imghash import Settings
from imghash.index import MemoryStore, RetryLater, S3Indexer, index_handler
from tests.helpers import encode, photo_like
from tests.index.conftest import BUCKET

ROOT = Path(__file__).resolve().parents[2]
BAD = "images/faulty.png"
GOOD = "images/good.png"


def client_error(code: str, status: int, operation: str = "GetObject") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} says no"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


#: name -> a function raising the fault, for GetObject (at the call, or while reading).
RETRY: dict[str, Callable[[], Exception]] = {
    "SlowDown 503": lambda: client_error("SlowDown", 503),
    "InternalError 500": lambda: client_error("InternalError", 500),
    "ServiceUnavailable 503": lambda: client_error("ServiceUnavailable", 503),
    "Throttling 400": lambda: client_error("ThrottlingException", 400),
    "429": lambda: client_error("TooManyRequests", 429),
    "KMS throttling": lambda: client_error("KMS.ThrottlingException", 400),
    "ReadTimeoutError": lambda: ReadTimeoutError(endpoint_url="https://s3.example"),
    "ConnectTimeoutError": lambda: ConnectTimeoutError(endpoint_url="https://s3.example"),
    "EndpointConnectionError": lambda: EndpointConnectionError(endpoint_url="https://s3.x"),
    "urllib3 ProtocolError": lambda: urllib3.exceptions.ProtocolError("connection reset"),
}
STREAM_RETRY: dict[str, Callable[[], Exception]] = {
    "ResponseStreamingError": lambda: ResponseStreamingError(error="connection broken"),
    "IncompleteReadError": lambda: IncompleteReadError(actual_bytes=10, expected_bytes=100),
    "ReadTimeoutError while reading": lambda: ReadTimeoutError(endpoint_url="https://s3.x"),
}
PERMANENT: dict[str, tuple[Callable[[], Exception], str]] = {
    "AccessDenied": (lambda: client_error("AccessDenied", 403), "AccessDenied"),
    "KMS disabled": (lambda: client_error("KMS.DisabledException", 400), "KMS.DisabledException"),
    "KMS not found": (lambda: client_error("KMS.NotFoundException", 400), "KMS.NotFoundException"),
    "ExpiredToken": (lambda: client_error("ExpiredToken", 400), "ExpiredToken"),
    "archived": (lambda: client_error("InvalidObjectState", 403), "InvalidObjectState"),
    "validation": (lambda: ParamValidationError(report="Key is too long"), "ValidationError"),
}


class _Body:
    def __init__(self, body: Any, fault: Callable[[], Exception] | None) -> None:
        self.body, self.fault = body, fault

    def read(self, *args: Any) -> bytes:
        if self.fault is not None:
            raise self.fault()
        data: bytes = self.body.read(*args)
        return data


class FaultyS3:
    """The moto client; the faulty key's GetObject fails at the call or while reading."""

    def __init__(
        self,
        client: Any,
        at_call: Callable[[], Exception] | None = None,
        at_read: Callable[[], Exception] | None = None,
    ) -> None:
        self.client, self.at_call, self.at_read = client, at_call, at_read

    def get_object(self, **args: Any) -> Any:
        if args["Key"] == BAD and self.at_call is not None:
            raise self.at_call()
        answer = self.client.get_object(**args)
        fault = self.at_read if args["Key"] == BAD else None
        return {**answer, "Body": _Body(answer["Body"], fault)}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def two_records() -> dict[str, Any]:
    found: dict[str, Any] = json.loads((ROOT / "events" / "s3_put.json").read_text())
    first = found["Records"][0]
    records = []
    for n, key in enumerate((BAD, GOOD)):
        record = copy.deepcopy(first)
        record["s3"]["object"].update({"key": key, "size": 100, "sequencer": f"00{n}A"})
        records.append(record)
    return {"Records": records}


def batch() -> dict[str, Any]:
    found: dict[str, Any] = json.loads((ROOT / "events" / "s3_batch.json").read_text())
    found["tasks"] = [
        {**found["tasks"][0], "taskId": "bad", "s3Key": BAD},
        {**found["tasks"][0], "taskId": "good", "s3Key": GOOD},
    ]
    return found


@pytest.fixture
def bucket(aws: dict[str, Any]) -> Any:
    for key in (BAD, GOOD):
        aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=encode(photo_like(), "PNG"))
    return aws["s3"]


def _faulty(bucket: Any, name: str) -> FaultyS3:
    if name in RETRY:
        return FaultyS3(bucket, at_call=RETRY[name])
    if name in STREAM_RETRY:
        return FaultyS3(bucket, at_read=STREAM_RETRY[name])
    return FaultyS3(bucket, at_call=PERMANENT[name][0])


@pytest.mark.parametrize("name", [*RETRY, *STREAM_RETRY])
def test_what_a_retry_can_fix_is_raised_after_the_rest(bucket: Any, name: str) -> None:
    store = MemoryStore()
    indexer = S3Indexer(store, Settings(), s3=_faulty(bucket, name))
    with pytest.raises(RetryLater, match=r"faulty\.png"):
        index_handler(indexer)(two_records(), None)
    assert store.get(BUCKET, BAD) is None
    good = store.get(BUCKET, GOOD)
    assert good is not None
    assert good.error is None


@pytest.mark.parametrize("name", list(PERMANENT))
def test_what_a_retry_cannot_fix_is_recorded_and_the_event_goes_on(bucket: Any, name: str) -> None:
    store = MemoryStore()
    indexer = S3Indexer(store, Settings(), s3=_faulty(bucket, name))
    answer = index_handler(indexer)(two_records(), None)
    assert answer["indexed"] == 1
    assert answer["failed"] == 1
    assert answer["failures"] == [{"object": f"s3://{BUCKET}/{BAD}", "code": PERMANENT[name][1]}]
    assert store.get(BUCKET, BAD) is None  # nothing written: a re-delivery may still index it
    assert store.get(BUCKET, GOOD) is not None


@pytest.mark.parametrize("name", [*RETRY, *STREAM_RETRY, *PERMANENT])
def test_batch_operations_answer_each_task_by_class(bucket: Any, name: str) -> None:
    store = MemoryStore()
    indexer = S3Indexer(store, Settings(), s3=_faulty(bucket, name))
    results = {r["taskId"]: r for r in index_handler(indexer)(batch(), None)["results"]}
    assert results["good"]["resultCode"] == "Succeeded"
    if name in PERMANENT:
        assert results["bad"]["resultCode"] == "PermanentFailure"
        assert results["bad"]["resultString"].startswith(PERMANENT[name][1])
    else:
        assert results["bad"]["resultCode"] == "TemporaryFailure"


def test_a_vanished_object_is_skipped_and_the_event_goes_on(bucket: Any) -> None:
    store = MemoryStore()
    bucket.delete_object(Bucket=BUCKET, Key=BAD)
    answer = index_handler(S3Indexer(store, Settings(), s3=bucket))(two_records(), None)
    assert (answer["skipped"], answer["indexed"]) == (1, 1)


class RefusingStore(MemoryStore):
    """A store whose table refuses the faulty key's item as invalid (DynamoDB's 400)."""

    def put(self, record: Any) -> bool:
        if record.key == BAD:
            raise client_error("ValidationException", 400, "PutItem")
        return super().put(record)


def test_a_store_validation_error_is_recorded(bucket: Any) -> None:
    store = RefusingStore()
    answer = index_handler(S3Indexer(store, Settings(), s3=bucket))(two_records(), None)
    assert answer["failures"] == [{"object": f"s3://{BUCKET}/{BAD}", "code": "ValidationException"}]
    assert store.get(BUCKET, GOOD) is not None


def test_the_counts_are_what_was_written(bucket: Any) -> None:
    handler = index_handler(S3Indexer(MemoryStore(), Settings(), s3=bucket))
    first = handler(two_records(), None)
    again = handler(two_records(), None)  # re-delivered: the conditional writes refuse
    assert (first["indexed"], first["unchanged"]) == (2, 0)
    assert (again["indexed"], again["unchanged"]) == (0, 2)
    tasks = index_handler(S3Indexer(MemoryStore(), Settings(), s3=bucket))
    assert [r["resultString"] for r in tasks(batch(), None)["results"]] == ["indexed"] * 2


class BuggyStore(MemoryStore):
    def put(self, record: Any) -> bool:
        if record.key == BAD:
            raise ZeroDivisionError("a bug")
        return super().put(record)


def test_a_bug_fails_the_event_after_the_others_are_indexed(bucket: Any) -> None:
    store = BuggyStore()
    with pytest.raises(ZeroDivisionError):
        index_handler(S3Indexer(store, Settings(), s3=bucket))(two_records(), None)
    assert store.get(BUCKET, GOOD) is not None
