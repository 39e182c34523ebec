"""Indexing S3 objects: bucket notifications and Batch Operations (DESIGN §8).

An object's first bytes are read with a ranged GET and checked before the rest
is downloaded, so a huge or non-image object is recorded with its error code
without being fetched whole. Each object of an event is handled on its own; AWS
failures fall in three classes (``classify``):

- what a retry can fix (throttling, 5xx, timeouts, dropped or corrupted streams,
  connection errors): raised once the rest of the event is done, so that Lambda
  retries it and finally hands it to the failure destination (Batch Operations:
  ``TemporaryFailure``);
- what a retry cannot fix (AccessDenied, KMS, ExpiredToken, an archived object, a
  request S3 or DynamoDB refuses as invalid): the object is counted as failed with
  its code, logged, and the event goes on (Batch Operations: ``PermanentFailure``
  with the code). No record is written, so a later re-delivery can still index it;
- the object is gone (NoSuchKey): skipped.
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

__all__ = ["HEADER_BYTES", "ObjectFailed", "RetryLater", "S3Indexer", "classify"]

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
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "TransactionConflictException",
    "KMS.ThrottlingException",
    "KMS.KMSInternalException",
}
_GONE = {"NoSuchKey", "NoSuchVersion", "404", "NotFound"}
#: botocore's own refusals of a request before it is sent: retrying cannot help.
_INVALID_CLIENT_ERRORS = {"ValidationError", "ParamValidationError", "MissingParametersError"}


class RetryLater(Exception):
    """A failure that retrying can fix: raised so that Lambda retries the invocation."""


class ObjectGone(Exception):
    """The object was deleted (or never existed) by the time we read it."""


class ObjectFailed(Exception):
    """A failure that retrying cannot fix, with the AWS error code that says why."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


def _default_s3() -> Any:
    import boto3

    return boto3.client("s3")


def _class_names(err: Exception) -> set[str]:
    return {cls.__name__ for cls in type(err).__mro__}


def classify(err: Exception) -> Exception:
    """Map an AWS client error to RetryLater, ObjectGone or ObjectFailed; anything that
    is not an AWS error (a bug) is returned as it is."""
    response = getattr(err, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = str(response.get("Error", {}).get("Code", ""))
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _GONE or status == 404:
            return ObjectGone(code)
        if code in _TRANSIENT or status >= 500 or status == 429:
            return RetryLater(f"{code or status}: retry")
        message = str(response.get("Error", {}).get("Message", ""))
        return ObjectFailed(code or str(status), message)
    module = type(err).__module__
    if module.startswith("urllib3"):
        return RetryLater(type(err).__name__)
    if module.startswith("botocore"):
        names = _class_names(err)
        if names & _INVALID_CLIENT_ERRORS:
            return ObjectFailed("ValidationError", str(err))
        # The rest (timeouts, streams, credentials not yet there) is worth a retry; what
        # keeps failing ends in the failure destination, where an operator sees it.
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

    def index(self, obj: _Object) -> tuple[IndexRecord, bool] | None:
        """Record one object: the record and whether it was written (a conditional write
        refuses what is not newer), or None when the object is gone. Raises RetryLater,
        ObjectFailed, or a bug as it is."""
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
        return record, self._put(record)

    def remove(self, bucket: str, key: str, sequencer: str) -> bool:
        try:
            return self.store.delete(bucket, key, sequencer)
        except Exception as err:
            raise classify(err) from err

    def _put(self, record: IndexRecord) -> bool:
        try:
            return self.store.put(record)
        except Exception as err:
            raise classify(err) from err

    def _head(self, obj: _Object) -> _Object:
        try:
            head = self.s3.head_object(**obj.args())
        except Exception as err:
            raise classify(err) from err
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
            found = classify(err)
            if isinstance(found, ObjectFailed) and found.code == "InvalidRange":
                return b""  # an empty object
            raise found from err

    def _wanted(self, key: str) -> bool:
        return key.startswith(self.settings.index_prefix)

    def _one(self, entry: dict[str, Any]) -> str:
        """Handle one notification record; the name of the count it adds to."""
        if entry.get("eventSource") != "aws:s3":
            return "skipped"
        info = entry["s3"]
        bucket = info["bucket"]["name"]
        found = info["object"]
        key = unquote_plus(found["key"])  # S3 sends keys URL-encoded, spaces as '+'
        if not self._wanted(key):
            return "skipped"
        sequencer = normalise_sequencer(found.get("sequencer"))
        if entry["eventName"].startswith("ObjectRemoved"):
            return "removed" if self.remove(bucket, key, sequencer) else "unchanged"
        obj = _Object(
            bucket, key, found.get("versionId"), found.get("eTag"), found.get("size"), sequencer
        )
        outcome = self.index(obj)
        if outcome is None:
            return "skipped"
        record, written = outcome
        if not written:
            return "unchanged"  # a re-delivered or older event: the store kept what it had
        return "not_images" if record.error else "indexed"

    def handle_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """An S3 notification: every record handled on its own, whatever the others do.

        Returns what was written (``indexed``, ``not_images``, ``removed``), what
        changed nothing (``unchanged``, ``skipped``) and what failed for good
        (``failed``, with each key and code in ``failures``). Then, when any record
        needs a retry, or met a bug, raises: Lambda retries the event (re-delivery
        changes nothing for the records already written).
        """
        counts: dict[str, Any] = dict.fromkeys(
            ("indexed", "not_images", "unchanged", "removed", "skipped", "failed"), 0
        )
        failures: list[dict[str, str]] = []
        retry: list[str] = []
        bug: Exception | None = None
        for entry in event.get("Records", []):
            where = _where(entry)
            try:
                counts[self._one(entry)] += 1
            except RetryLater as err:
                retry.append(f"{where}: {err}")
            except ObjectFailed as err:
                counts["failed"] += 1
                failures.append({"object": where, "code": err.code})
                log.warning("not indexed, not retried: %s: %s", where, err)
            except Exception as err:  # a bug: the others still go, then the event fails
                log.exception("indexing %s failed", where)
                bug = bug or err
        log.info("s3 event handled: %s", counts)
        counts["failures"] = failures
        if bug is not None:
            raise bug
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
                outcome = self.index(obj)
            except RetryLater as err:
                results.append(_task(task, "TemporaryFailure", str(err)))
                continue
            except ObjectFailed as err:
                results.append(_task(task, "PermanentFailure", str(err)))
                continue
            except Exception as err:  # a task's failure must not fail the others
                log.exception("indexing s3://%s/%s failed", bucket, key)
                results.append(_task(task, "PermanentFailure", type(err).__name__))
                continue
            if outcome is None:
                results.append(_task(task, "PermanentFailure", "NoSuchKey"))
            else:
                record, written = outcome
                said = record.error or "indexed"
                results.append(_task(task, "Succeeded", said if written else "unchanged"))
        return {
            "invocationSchemaVersion": event.get("invocationSchemaVersion", "2.0"),
            "treatMissingKeysAs": "PermanentFailure",
            "invocationId": event.get("invocationId"),
            "results": results,
        }


def _where(entry: dict[str, Any]) -> str:
    try:
        return f"s3://{entry['s3']['bucket']['name']}/{unquote_plus(entry['s3']['object']['key'])}"
    except (KeyError, TypeError):
        return "a malformed record"


def _task(task: dict[str, Any], code: str, message: str) -> dict[str, str]:
    return {"taskId": task["taskId"], "resultCode": code, "resultString": message[:1024]}
