"""Search over a store: in SQL when the store can, else an in-memory index of its records."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._algorithms import ALGORITHMS
from .._hashvalue import Hash
from ._record import IndexRecord
from ._search import HashIndex, check_search
from ._store import SearchingStore, Store

__all__ = ["SearchService", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """The hashed records of one profile, with an index per algorithm over them."""

    records: dict[str, list[IndexRecord]]
    indexes: dict[str, HashIndex]
    total: int

    @classmethod
    def build(cls, store: Store, profile: str) -> Snapshot:
        records: dict[str, list[IndexRecord]] = {name: [] for name in ALGORITHMS}
        total = 0
        for record in store.scan():
            if record.error is not None or record.profile != profile:
                continue
            total += 1
            for name, value in record.hashes.items():
                if name in records and len(value) == ALGORITHMS[name].bits:
                    records[name].append(record)
        indexes = {
            name: HashIndex([r.hashes[name].value for r in found], width=ALGORITHMS[name].bits)
            for name, found in records.items()
        }
        return cls(records, indexes, total)

    def search(
        self, queries: Sequence[Hash], algorithm: str, max_distance: int, limit: int | None
    ) -> list[tuple[IndexRecord, int, int]]:
        """``(record, distance, which)`` within ``max_distance`` of some query, at its
        nearest (``queries[which]``), nearest first, ties by bucket and key."""
        check_search(queries, algorithm, max_distance, limit)
        found = self.records[algorithm]
        hits = self.indexes[algorithm].search_many([q.value for q in queries], max_distance)
        # Ties by bucket and key in code-point order, as SQL's ORDER BY ... COLLATE "C":
        # only the matches are sorted, then cut to the limit.
        ordered = sorted(
            (distance, found[position].bucket, found[position].key, position, which)
            for position, distance, which in hits
        )[:limit]
        return [(found[position], distance, which) for distance, _, _, position, which in ordered]


class SearchService:
    """Answers searches: a store that searches itself (PostgreSQL) is asked each time,
    so an object is found as soon as its write commits; any other from a snapshot of
    ``store``, kept fresh.

    A store that reports a cheap generation (SQLite) is checked on every search and
    the snapshot rebuilt as soon as it changes. One that cannot (DynamoDB) is
    rebuilt when the snapshot is older than ``ttl`` seconds: a new object becomes
    searchable within ``ttl`` of being indexed.
    """

    def __init__(
        self, store: Store, *, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._snapshots: dict[str, tuple[Snapshot, str | None, float]] = {}

    def snapshot(self, profile: str) -> Snapshot:
        with self._lock:
            generation = self.store.generation()
            held = self._snapshots.get(profile)
            if held is not None:
                snapshot, seen, built = held
                fresh = (
                    seen == generation
                    if generation is not None
                    else (self.clock() - built < self.ttl)
                )
                if fresh:
                    return snapshot
            snapshot = Snapshot.build(self.store, profile)
            self._snapshots[profile] = (snapshot, generation, self.clock())
            return snapshot

    def search(
        self,
        query: Hash | Mapping[str, Hash],
        *,
        algorithm: str,
        max_distance: int,
        limit: int | None,
        profile: str,
    ) -> tuple[list[dict[str, Any]], int]:
        """Matches nearest first (ties by bucket, then key), and how many objects the
        index holds.

        ``query`` is one hash, or several by name (a dihedral search's eight
        orientations): then each record is matched at its nearest query, named in its
        ``"orientation"`` (the first of equally near ones), and the search stays exact:
        each distinct hash is searched once, and a record is within the radius of the
        set exactly when it is within that of one of its hashes.
        """
        named = {"": query} if isinstance(query, Hash) else query
        distinct: dict[Hash, str] = {}
        for name, value in named.items():
            distinct.setdefault(value, name)
        queries, names = list(distinct), list(distinct.values())
        check_search(queries, algorithm, max_distance, limit)
        if isinstance(self.store, SearchingStore):
            found, total = self.store.search(
                queries,
                algorithm=algorithm,
                max_distance=max_distance,
                limit=limit,
                profile=profile,
            )
        else:
            snapshot = self.snapshot(profile)
            found, total = snapshot.search(queries, algorithm, max_distance, limit), snapshot.total
        matches = []
        for record, distance, which in found:
            match = record.match_dict(distance)
            if not isinstance(query, Hash):
                match["orientation"] = names[which]
            matches.append(match)
        return matches, total
