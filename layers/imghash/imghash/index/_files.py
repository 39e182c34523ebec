"""Indexing local files into a store: the embedded counterpart of the S3 trigger."""

from __future__ import annotations

from pathlib import Path

from .._errors import ImghashError
from .._hashing import read_source
from .._settings import Settings
from ._indexer import ObjectRef
from ._record import IndexRecord
from ._store import Store

__all__ = ["FILE_BUCKET", "index_file"]

#: Files are recorded in a bucket of this name, keyed by their absolute path.
FILE_BUCKET = "file"


def index_file(
    path: Path, store: Store, *, profile: str, settings: Settings
) -> tuple[IndexRecord, bool]:
    """Index one file; returns its record and whether it was (re)hashed.

    A file whose size and modification time match its record is not read again.
    """
    resolved = path.resolve()
    key = str(resolved)
    try:
        stat = resolved.stat()
    except OSError as err:
        raise FileNotFoundError(f"cannot read {path}: {err.strerror}") from None
    version = f"{stat.st_size}:{stat.st_mtime_ns}"
    known = store.get(FILE_BUCKET, key)
    if known is not None and known.version == version and known.profile == profile:
        return known, False
    ref = ObjectRef(FILE_BUCKET, key, version, stat.st_size, "", profile)
    try:
        record = ref.hashed(read_source(resolved, settings), settings)
    except ImghashError as err:
        record = ref.failed(err)
    store.put(record)
    return record, True
