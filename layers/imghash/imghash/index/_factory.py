"""Which store the settings name: a DynamoDB table in AWS, else the embedded SQLite file."""

from __future__ import annotations

from .._settings import Settings
from ._store import Store

__all__ = ["store_from_settings"]


def store_from_settings(settings: Settings) -> Store:
    """``IMGHASH_TABLE`` set: DynamoDB; otherwise the SQLite file at ``IMGHASH_DB``."""
    if settings.table_name:
        from ._dynamodb import DynamoStore

        return DynamoStore(settings.table_name)
    from ._sqlite import SQLiteStore

    return SQLiteStore(settings.db_path)
