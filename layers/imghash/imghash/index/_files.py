"""Indexing local files into a store: the embedded counterpart of the S3 trigger.

The work is split so that a folder can be hashed on every core while one process
writes: :func:`plan_file` (this process: is the record current?), :func:`hash_file`
(any process: read and hash), then ``store.put``. :func:`prune` forgets the files
under a folder that are gone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._errors import ImghashError
from .._hashing import read_source
from .._settings import Settings
from ._indexer import INDEXED, ObjectRef
from ._record import IndexRecord
from ._store import Store

__all__ = [
    "FILE_BUCKET",
    "hash_file",
    "index_file",
    "is_missing",
    "mark_missing",
    "plan_file",
    "prune",
    "put_all",
]

#: Files are recorded in a bucket of this name, keyed by their absolute path.
FILE_BUCKET = "file"


def plan_file(
    path: Path, store: Store, *, profile: str, fast: bool = False
) -> IndexRecord | ObjectRef:
    """The file's current record when its size and modification time are unchanged,
    else the reference to hash. Raises ``FileNotFoundError`` when it cannot be read.

    A record hashed in fast mode is current only for a ``fast`` run: indexed again
    without it, the file is hashed exactly. An exact record is current for both.
    """
    resolved = path.resolve()
    key = str(resolved)
    try:
        stat = resolved.stat()
    except OSError as err:
        raise FileNotFoundError(f"cannot read {path}: {err.strerror}") from None
    version = f"{stat.st_size}:{stat.st_mtime_ns}"
    known = store.get(FILE_BUCKET, key)
    if (
        known is not None
        and known.version == version
        and known.profile == profile
        and (fast or not known.fast)
        # hashed by every algorithm (a record made before PDQ is hashed again), or no image
        and (known.error is not None or all(name in known.hashes for name in INDEXED))
    ):
        return known
    return ObjectRef(FILE_BUCKET, key, version, stat.st_size, "", profile, fast)


def hash_file(job: tuple[ObjectRef, Settings]) -> IndexRecord:
    """Read and hash a planned file into its record (an image error is recorded as such).

    Takes one tuple, so that a pool of worker processes can map over the planned files.
    """
    ref, settings = job
    try:
        return ref.hashed(read_source(ref.key, settings), settings)
    except ImghashError as err:
        return ref.failed(err)


def index_file(
    path: Path, store: Store, *, profile: str, settings: Settings, fast: bool = False
) -> tuple[IndexRecord, bool]:
    """Index one file; returns its record and whether it was (re)hashed.

    A file whose size and modification time match its record is not read again.
    """
    planned = plan_file(path, store, profile=profile, fast=fast)
    if isinstance(planned, IndexRecord):
        return planned, False
    record = hash_file((planned, settings))
    store.put(record)
    return record, True


def prune(folder: Path, store: Store) -> list[str]:
    """Forget the files under ``folder`` that no longer exist; returns their paths."""
    root = str(folder.resolve())
    prefix = root if root.endswith(os.sep) else root + os.sep
    gone = sorted(
        record.key
        for record in store.scan()
        if record.bucket == FILE_BUCKET and record.key.startswith(prefix) and is_missing(record.key)
    )
    for key in gone:
        store.delete(FILE_BUCKET, key)
    return gone


def is_missing(path: str) -> bool:
    """True when no file is at ``path`` any more (a record of a file that was deleted)."""
    return not os.path.isfile(path)


def mark_missing(matches: Iterable[dict[str, Any]]) -> int:
    """Give each search match of a local file ``missing``: whether the file is gone
    since it was indexed (an object in a bucket gets none); returns how many are gone.

    A search answers from the index, which keeps a deleted file's record until its
    folder is indexed again: said so, a gone path is never passed off as present.
    """
    gone = 0
    for match in matches:
        if match["bucket"] == FILE_BUCKET:
            match["missing"] = is_missing(match["key"])
            gone += match["missing"]
    return gone


def put_all(store: Store, records: list[IndexRecord]) -> None:
    """Write ``records``: in one transaction where the store can (SQLite), else one by one.

    A commit syncs the file to disk; one per file would make a folder of small images
    wait on the disk more than on hashing.
    """
    put_many = getattr(store, "put_many", None)
    if put_many is not None:
        put_many(records)
        return
    for record in records:
        store.put(record)
