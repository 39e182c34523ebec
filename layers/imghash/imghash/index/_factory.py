"""Which store a location or the settings name: SQLite, PostgreSQL, DynamoDB or Aurora."""

from __future__ import annotations

from .._settings import Settings
from ._store import Store

__all__ = ["open_store", "store_from_settings"]


def open_store(location: str, settings: Settings | None = None) -> Store:
    """The store at ``location``: a ``postgresql://`` URL, else the SQLite file at that path."""
    from ._postgres import is_database_url

    if is_database_url(location):
        from ._postgres import PostgresStore

        return PostgresStore.connect(location, settings)
    from ._sqlite import SQLiteStore

    return SQLiteStore(location)


def store_from_settings(settings: Settings) -> Store:
    """Aurora through the Data API (``IMGHASH_AURORA_CLUSTER_ARN``), else the DynamoDB table
    (``IMGHASH_TABLE``), else the location: ``IMGHASH_DATABASE_URL`` or ``IMGHASH_DB``."""
    if settings.aurora_cluster_arn:
        from ._postgres import PostgresStore

        return PostgresStore.data_api(settings)
    if settings.table_name:
        from ._dynamodb import DynamoStore

        return DynamoStore(settings.table_name)
    return open_store(settings.index_location, settings)
