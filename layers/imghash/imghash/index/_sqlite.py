"""The embedded store: one SQLite file, hashes kept as signed int64 and as hex."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .._hashvalue import Hash
from ._record import IndexRecord

__all__ = ["SQLiteStore"]

_ALGORITHMS = ("ahash", "dhash", "phash")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    version TEXT NOT NULL,
    sequencer TEXT NOT NULL,
    size INTEGER NOT NULL,
    profile TEXT NOT NULL,
    indexed_at TEXT NOT NULL,
    format TEXT,
    width INTEGER,
    height INTEGER,
    low_information INTEGER NOT NULL,
    error TEXT,
    error_message TEXT,
    ahash INTEGER, dhash INTEGER, phash INTEGER,
    ahash_hex TEXT, dhash_hex TEXT, phash_hex TEXT,
    PRIMARY KEY (bucket, key)
);
CREATE TABLE IF NOT EXISTS generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER);
INSERT OR IGNORE INTO generation VALUES (1, 0);
"""

_COLUMNS = (
    "bucket, key, version, sequencer, size, profile, indexed_at, format, width, height, "
    "low_information, error, error_message, ahash, dhash, phash, ahash_hex, dhash_hex, phash_hex"
)

# The write rule of every store (see _store.supersedes).
_UPSERT = f"""
INSERT INTO records ({_COLUMNS}) VALUES ({", ".join("?" * 19)})
ON CONFLICT (bucket, key) DO UPDATE SET
    version = excluded.version, sequencer = excluded.sequencer, size = excluded.size,
    profile = excluded.profile, indexed_at = excluded.indexed_at, format = excluded.format,
    width = excluded.width, height = excluded.height,
    low_information = excluded.low_information, error = excluded.error,
    error_message = excluded.error_message, ahash = excluded.ahash, dhash = excluded.dhash,
    phash = excluded.phash, ahash_hex = excluded.ahash_hex, dhash_hex = excluded.dhash_hex,
    phash_hex = excluded.phash_hex
WHERE excluded.sequencer > records.sequencer
   OR (excluded.sequencer = records.sequencer
       AND (excluded.version != records.version OR excluded.profile != records.profile))
"""


class SQLiteStore:
    """Index records in a SQLite file (created on first use, WAL journal).

    Each operation opens its own short-lived connection: safe from any thread, and
    nothing is left open when the store is dropped.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        try:
            if not self._ready:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                self._ready = True
            with db:  # one transaction: committed, or rolled back on error
                yield db
        finally:
            db.close()

    def close(self) -> None:
        """Nothing stays open between operations; kept for symmetry with other stores."""

    def put(self, record: IndexRecord) -> bool:
        hashes = [record.hashes.get(name) for name in _ALGORITHMS]
        row = (
            record.bucket,
            record.key,
            record.version,
            record.sequencer,
            record.size,
            record.profile,
            record.indexed_at,
            record.format,
            record.width,
            record.height,
            int(record.low_information),
            record.error,
            record.error_message,
            *(h.signed if h else None for h in hashes),
            *(h.hex() if h else None for h in hashes),
        )
        with self._db() as db:
            changed = db.execute(_UPSERT, row).rowcount > 0
            if changed:
                db.execute("UPDATE generation SET value = value + 1")
        return changed

    def delete(self, bucket: str, key: str, sequencer: str = "") -> bool:
        query = "DELETE FROM records WHERE bucket = ? AND key = ?"
        args: tuple[str, ...] = (bucket, key)
        if sequencer:
            query += " AND sequencer <= ?"
            args += (sequencer,)
        with self._db() as db:
            changed = db.execute(query, args).rowcount > 0
            if changed:
                db.execute("UPDATE generation SET value = value + 1")
        return changed

    def get(self, bucket: str, key: str) -> IndexRecord | None:
        with self._db() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM records WHERE bucket = ? AND key = ?", (bucket, key)
            ).fetchone()
        return None if row is None else _record(row)

    def scan(self) -> Iterator[IndexRecord]:
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM records").fetchall()
        return (_record(row) for row in rows)

    def generation(self) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM generation").fetchone()
        return str(row[0])


def _record(row: tuple[object, ...]) -> IndexRecord:
    (
        bucket,
        key,
        version,
        sequencer,
        size,
        profile,
        indexed_at,
        fmt,
        width,
        height,
        low,
        error,
        error_message,
        *signed,
    ) = row[:16]
    hashes = {
        name: Hash.from_signed(int(value))  # type: ignore[call-overload]
        for name, value in zip(_ALGORITHMS, signed, strict=True)
        if value is not None
    }
    return IndexRecord(
        bucket=str(bucket),
        key=str(key),
        version=str(version),
        size=int(size),  # type: ignore[call-overload]
        profile=str(profile),
        indexed_at=str(indexed_at),
        sequencer=str(sequencer),
        format=None if fmt is None else str(fmt),
        width=None if width is None else int(width),  # type: ignore[call-overload]
        height=None if height is None else int(height),  # type: ignore[call-overload]
        hashes=hashes,
        low_information=bool(low),
        error=None if error is None else str(error),
        error_message=None if error_message is None else str(error_message),
    )
