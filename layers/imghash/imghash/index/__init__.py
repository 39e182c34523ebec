"""The index: records of hashed objects, stores (SQLite, DynamoDB, PostgreSQL), exact search."""

from ._dynamodb import DynamoStore
from ._factory import open_store, store_from_settings
from ._files import (
    FILE_BUCKET,
    hash_file,
    index_file,
    is_missing,
    mark_missing,
    plan_file,
    prune,
    put_all,
)
from ._lambda import index_handler
from ._postgres import PostgresStore
from ._record import IndexRecord, normalise_sequencer
from ._s3 import HEADER_BYTES, RetryLater, S3Indexer
from ._search import MAX_DISTANCE, HashIndex
from ._service import SearchService, Snapshot
from ._sqlite import SQLiteStore
from ._store import MemoryStore, SearchingStore, Store

__all__ = [
    "FILE_BUCKET",
    "HEADER_BYTES",
    "MAX_DISTANCE",
    "DynamoStore",
    "HashIndex",
    "IndexRecord",
    "MemoryStore",
    "PostgresStore",
    "RetryLater",
    "S3Indexer",
    "SQLiteStore",
    "SearchService",
    "SearchingStore",
    "Snapshot",
    "Store",
    "hash_file",
    "index_file",
    "index_handler",
    "is_missing",
    "mark_missing",
    "normalise_sequencer",
    "open_store",
    "plan_file",
    "prune",
    "put_all",
    "store_from_settings",
]
