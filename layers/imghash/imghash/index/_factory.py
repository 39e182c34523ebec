"""Which store holds the index: the one place a store is opened from a location or settings."""

from __future__ import annotations

from .._settings import Settings
from ._store import Store

__all__ = ["open_store", "store_from_settings"]


def open_store(
    location: str, settings: Settings | None = None, *, read_only: bool = False
) -> Store:
    """The store at ``location`` (``--db``, ``IMGHASH_DB``, ``IMGHASH_DATABASE_URL``): a
    ``postgresql://`` URL, else a SQLite file's path.

    ``read_only`` (searching) opens an existing index without writing anything, and
    raises :class:`~imghash.IndexMissing` when there is none; otherwise the index is
    created on first write.
    """
    from ._postgres import is_database_url

    if is_database_url(location):
        from ._postgres import PostgresStore

        return PostgresStore.connect(location, settings, read_only=read_only)
    from ._sqlite import SQLiteStore

    return SQLiteStore(location, read_only=read_only)


def store_from_settings(settings: Settings, *, read_only: bool = False) -> Store:
    """Aurora through the Data API (``IMGHASH_AURORA_CLUSTER_ARN``), else the DynamoDB table
    (``IMGHASH_TABLE``), else the store at :attr:`Settings.index_location`."""
    if settings.aurora_cluster_arn:
        from ._postgres import PostgresStore

        return PostgresStore.data_api(settings)
    if settings.table_name:
        from ._dynamodb import DynamoStore

        return DynamoStore(settings.table_name)
    return open_store(settings.index_location, settings, read_only=read_only)
