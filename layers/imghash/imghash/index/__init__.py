"""The index: records of hashed objects, stores (SQLite, DynamoDB), and exact search."""

from ._dynamodb import DynamoStore
from ._factory import store_from_settings
from ._files import FILE_BUCKET, index_file
from ._record import IndexRecord, normalise_sequencer
from ._search import MAX_DISTANCE, HashIndex
from ._service import SearchService, Snapshot
from ._sqlite import SQLiteStore
from ._store import MemoryStore, Store

__all__ = [
    "FILE_BUCKET",
    "MAX_DISTANCE",
    "DynamoStore",
    "HashIndex",
    "IndexRecord",
    "MemoryStore",
    "SQLiteStore",
    "SearchService",
    "Snapshot",
    "Store",
    "index_file",
    "normalise_sequencer",
    "store_from_settings",
]
