"""The index function's entry point: S3 notifications and Batch Operations tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._settings import Settings
from ._factory import store_from_settings
from ._s3 import S3Indexer

__all__ = ["index_handler"]

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def index_handler(indexer: S3Indexer | None = None) -> Handler:
    """A Lambda handler; its indexer (store, S3 client) is built on the first event."""
    made: list[S3Indexer] = [indexer] if indexer is not None else []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not made:
            settings = Settings.from_environ()
            made.append(S3Indexer(store_from_settings(settings), settings))
        if "invocationSchemaVersion" in event:
            return made[0].handle_batch(event)
        return dict(made[0].handle_event(event))

    return handler
