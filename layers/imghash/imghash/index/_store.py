"""The store port: where index records live. Adapters: SQLite (embedded), DynamoDB (AWS),
PostgreSQL (any server, Aurora); the last also searches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from .._hashvalue import Hash
from ._record import IndexRecord

__all__ = ["MemoryStore", "SearchingStore", "Store"]


class Store(Protocol):
    """Records by (bucket, key); writes are conditional so that re-delivery is harmless."""

    def put(self, record: IndexRecord) -> bool:
        """Store ``record`` unless a newer or identical one is there; True when written."""

    def delete(self, bucket: str, key: str, sequencer: str = "") -> bool:
        """Forget an object, unless the stored record is newer than ``sequencer``."""

    def get(self, bucket: str, key: str) -> IndexRecord | None:
        """The record of one object."""

    def scan(self) -> Iterator[IndexRecord]:
        """Every record, in no particular order."""

    def generation(self) -> str | None:
        """Changes whenever the records do; None when the store cannot tell cheaply."""


@runtime_checkable
class SearchingStore(Protocol):
    """A store that searches itself (SQL), so that no snapshot of it is held in memory."""

    def search(
        self,
        queries: Sequence[Hash],
        *,
        algorithm: str,
        max_distance: int,
        limit: int | None,
        profile: str,
    ) -> tuple[list[tuple[IndexRecord, int, int]], int]:
        """``(record, distance, which)`` of each record of ``profile`` within ``max_distance``
        of some query, at its nearest (``queries[which]``, the first of equally near ones),
        nearest first, ties by bucket and key; at most ``limit``; and how many hashed
        records the profile holds. The queries are distinct and of the algorithm's width."""


def supersedes(new: IndexRecord, old: IndexRecord | None) -> bool:
    """The write rule every adapter applies: a later event, or at the same point another
    version of the object, the same version hashed with another profile, hashed by an
    algorithm the stored record lacks (an index made before PDQ gains it when its
    objects are indexed again), or hashed exactly where the stored record was hashed in
    fast mode (never the other way: an exact record is kept)."""
    if old is None:
        return True
    if new.sequencer != old.sequencer:
        return new.sequencer > old.sequencer
    return (
        new.version != old.version
        or new.profile != old.profile
        or not set(new.hashes) <= set(old.hashes)
        or (old.fast and not new.fast)
    )


class MemoryStore:
    """A store in a dict: for unit tests and one-off searches (``imghash dupes``)."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], IndexRecord] = {}
        self._generation = 0

    def put(self, record: IndexRecord) -> bool:
        if not supersedes(record, self.records.get((record.bucket, record.key))):
            return False
        self.records[record.bucket, record.key] = record
        self._generation += 1
        return True

    def delete(self, bucket: str, key: str, sequencer: str = "") -> bool:
        old = self.records.get((bucket, key))
        if old is None or (sequencer and old.sequencer > sequencer):
            return False
        del self.records[bucket, key]
        self._generation += 1
        return True

    def get(self, bucket: str, key: str) -> IndexRecord | None:
        return self.records.get((bucket, key))

    def scan(self) -> Iterator[IndexRecord]:
        return iter(list(self.records.values()))

    def generation(self) -> str | None:
        return str(self._generation)
