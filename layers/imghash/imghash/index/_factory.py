"""Which store holds the index: the one place a store is opened from a location or settings."""

from __future__ import annotations

from .._settings import Settings
from ._store import Store

__all__ = ["open_store", "store_from_settings"]


def open_store(location: str, *, read_only: bool = False) -> Store:
    """The store at ``location`` (``--db``, ``IMGHASH_DB``): a SQLite file's path.

    ``read_only`` (searching) opens an existing index without writing anything, and
    raises :class:`~imghash.IndexMissing` when there is none; otherwise the index is
    created on first write.
    """
    from ._sqlite import SQLiteStore

    return SQLiteStore(location, read_only=read_only)


def store_from_settings(settings: Settings, *, read_only: bool = False) -> Store:
    """``IMGHASH_TABLE`` set: DynamoDB; otherwise the store at ``IMGHASH_DB`` or the default."""
    if settings.table_name:
        from ._dynamodb import DynamoStore

        return DynamoStore(settings.table_name)
    return open_store(settings.index_location, read_only=read_only)
