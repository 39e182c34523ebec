"""Indexing S3 objects: bucket notifications and Batch Operations (DESIGN §8).

An object's first bytes are read with a ranged GET and checked before the rest
is downloaded, so a huge or non-image object is recorded with its error code
without being fetched whole. Failures that a retry can fix (throttling, 5xx,
the network) are raised, so that Lambda retries the event and finally hands it
to the failure destination; failures that it cannot fix are recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any
from urllib.parse import unquote_plus

from .._decode import inspect_header
from .._errors import ImageTooLarge, ImghashError
from .._profiles import DEFAULT_PROFILE
from .._settings import Settings
from ._indexer import ObjectRef
from ._record import IndexRecord, normalise_sequencer
from ._store import Store

__all__ = ["HEADER_BYTES", "RetryLater", "S3Indexer"]

log = logging.getLogger("imghash.index")

#: The ranged GET that reads an object's header.
HEADER_BYTES = 64 * 1024
_TRANSIENT = {
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "Throttling",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "TransactionConflictException",
}
_GONE = {"NoSuchKey", "NoSuchVersion", "404", "NotFound"}


class RetryLater(Exception):
    """A failure that retrying can fix: raised so that Lambda retries the invocation."""


class ObjectGone(Exception):
    """The object was deleted (or never existed) by the time we read it."""


def _default_s3() -> Any:
    import boto3

    return boto3.client("s3")


def _classify(err: Exception) -> Exception:
    """Map a botocore error to RetryLater, ObjectGone, or itself (permanent)."""
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _GONE or status == 404:
            return ObjectGone(code)
        if code in _TRANSIENT or status >= 500:
            return RetryLater(f"{code or status}: retry")
        return err
    if type(err).__module__.startswith(("botocore", "urllib3")):  # connection, timeouts
        return RetryLater(type(err).__name__)
    return err


@dataclass(frozen=True)
class _Object:
    bucket: str
    key: str
    version_id: str | None
    etag: str | None
    size: int | None
    sequencer: str

    @property
    def version(self) -> str:
        return self.version_id or (self.etag or "").strip('"') or "unknown"

    def args(self) -> dict[str, str]:
        found = {"Bucket": self.bucket, "Key": self.key}
        if self.version_id:
            found["VersionId"] = self.version_id
        return found


class S3Indexer:
    """Hashes S3 objects into a store. The S3 client is injected or made on first use."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        s3: Any = None,
        s3_factory: Callable[[], Any] = _default_s3,
        profile: str = DEFAULT_PROFILE,
    ) -> None:
        self.store = store
        self.settings = settings
        self.profile = profile
        self._s3 = s3
        self._factory = s3_factory

    @cached_property
    def s3(self) -> Any:
        return self._s3 if self._s3 is not None else self._factory()

    def index(self, obj: _Object) -> IndexRecord | None:
        """Record one object (None when it is already gone); raises RetryLater."""
        try:
            if obj.size is None:
                obj = self._head(obj)
            size = obj.size or 0
            ref = ObjectRef(obj.bucket, obj.key, obj.version, size, obj.sequencer, self.profile)
            try:
                if size > self.settings.max_bytes:
                    raise ImageTooLarge(
                        f"the object is {size:,} bytes; the limit is "
                        f"{self.settings.max_bytes:,} bytes"
                    )
                prefix = self._read(obj, f"bytes=0-{HEADER_BYTES - 1}")
                inspect_header(prefix, self.settings)
                data = prefix if len(prefix) < HEADER_BYTES else self._read(obj, None)
            except ImghashError as err:
                record = ref.failed(err)
            else:
                record = ref.hashed(data, self.settings)
        except ObjectGone:
            log.info("object gone before indexing: s3://%s/%s", obj.bucket, obj.key)
            return None
        self._put(record)
        return record

    def remove(self, bucket: str, key: str, sequencer: str) -> bool:
        try:
            return self.store.delete(bucket, key, sequencer)
        except Exception as err:
            raise _classify(err) from err

    def _put(self, record: IndexRecord) -> None:
        try:
            self.store.put(record)
        except Exception as err:
            raise _classify(err) from err

    def _head(self, obj: _Object) -> _Object:
        try:
            head = self.s3.head_object(**obj.args())
        except Exception as err:
            raise _classify(err) from err
        return replace(
            obj,
            size=int(head["ContentLength"]),
            etag=head.get("ETag"),
            version_id=obj.version_id or head.get("VersionId"),
        )

    def _read(self, obj: _Object, byte_range: str | None) -> bytes:
        args = obj.args()
        if byte_range:
            args["Range"] = byte_range
        try:
            body = self.s3.get_object(**args)["Body"]
            return bytes(body.read(self.settings.max_bytes + 1))
        except Exception as err:
            if getattr(err, "response", {}).get("Error", {}).get("Code") == "InvalidRange":
                return b""  # an empty object
            raise _classify(err) from err

    def _wanted(self, key: str) -> bool:
        return key.startswith(self.settings.index_prefix)

    def handle_event(self, event: dict[str, Any]) -> dict[str, int]:
        """An S3 notification: every record handled; transient failures raised at the end."""
        counts = {"indexed": 0, "not_images": 0, "removed": 0, "skipped": 0}
        retry: list[str] = []
        for entry in event.get("Records", []):
            if entry.get("eventSource") != "aws:s3":
                counts["skipped"] += 1
                continue
            info = entry["s3"]
            bucket = info["bucket"]["name"]
            found = info["object"]
            key = unquote_plus(found["key"])  # S3 sends keys URL-encoded, spaces as '+'
            if not self._wanted(key):
                counts["skipped"] += 1
                continue
            sequencer = normalise_sequencer(found.get("sequencer"))
            try:
                if entry["eventName"].startswith("ObjectRemoved"):
                    counts["removed"] += self.remove(bucket, key, sequencer)
                    continue
                record = self.index(
                    _Object(
                        bucket,
                        key,
                        found.get("versionId"),
                        found.get("eTag"),
                        found.get("size"),
                        sequencer,
                    )
                )
            except RetryLater as err:
                retry.append(f"s3://{bucket}/{key}: {err}")
                continue
            if record is None:
                counts["skipped"] += 1
            else:
                counts["not_images" if record.error else "indexed"] += 1
        log.info("s3 event handled: %s", counts)
        if retry:
            raise RetryLater("; ".join(retry))
        return counts

    def handle_batch(self, event: dict[str, Any]) -> dict[str, Any]:
        """An S3 Batch Operations task list (schema 2.0), answered in its result format."""
        results = []
        for task in event.get("tasks", []):
            bucket = task.get("s3Bucket") or task.get("s3BucketArn", "").split(":::")[-1]
            key = unquote_plus(task["s3Key"])
            obj = _Object(bucket, key, task.get("s3VersionId"), None, None, "")
            try:
                record = self.index(obj)
            except RetryLater as err:
                results.append(_task(task, "TemporaryFailure", str(err)))
                continue
            except Exception as err:  # a task's failure must not fail the others
                results.append(_task(task, "PermanentFailure", type(err).__name__))
                continue
            if record is None:
                results.append(_task(task, "PermanentFailure", "NoSuchKey"))
            else:
                results.append(_task(task, "Succeeded", record.error or "indexed"))
        return {
            "invocationSchemaVersion": event.get("invocationSchemaVersion", "2.0"),
            "treatMissingKeysAs": "PermanentFailure",
            "invocationId": event.get("invocationId"),
            "results": results,
        }


def _task(task: dict[str, Any], code: str, message: str) -> dict[str, str]:
    return {"taskId": task["taskId"], "resultCode": code, "resultString": message[:1024]}
