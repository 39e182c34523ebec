"""The embedded store: one SQLite file, hashes kept as signed int64 and as hex."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from .._errors import IndexCorrupt, IndexMissing
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

#: SQLite's error names for a damaged file, or one that is not a database at all.
_DAMAGED = frozenset({"SQLITE_CORRUPT", "SQLITE_CORRUPT_INDEX", "SQLITE_NOTADB"})

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
    """Index records in a SQLite file, opened for writing (``index``) or read-only (``search``).

    Written, the file is created on first use. Read-only, it is opened with
    ``mode=ro`` and nothing is ever written or created beside it: a missing file is
    :class:`IndexMissing`, never a new empty index. The journal is SQLite's rollback
    journal, not WAL: a WAL database cannot be read without creating or writing its
    ``-shm`` file, so a read-only file or folder could not be searched. Readers and a
    writer still take turns safely through SQLite's locks (30 s busy timeout).

    Each operation opens its own short-lived connection: safe from any thread, and
    nothing is left open when the store is dropped.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            if not self.path.is_file():
                raise IndexMissing(
                    f"there is no index at {self.path}; build one first with "
                    f"`imghash index FOLDER` (--db or IMGHASH_DB choose where it goes)"
                )
            uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=30)
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(self.path, timeout=30)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            db = self._connect()
            try:
                if not self._ready:
                    self._prepare(db)
                    self._ready = True
                with db:  # one transaction: committed, or rolled back on error
                    yield db
            finally:
                db.close()
        except sqlite3.DatabaseError as err:
            if getattr(err, "sqlite_errorname", "") in _DAMAGED:
                raise self._damaged(str(err)) from None
            raise

    def _prepare(self, db: sqlite3.Connection) -> None:
        if self.read_only:
            found = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                "('records', 'generation')"
            ).fetchone()[0]
            if found != 2:
                raise self._damaged("it is a SQLite file without the index's tables")
            return
        # An index written by an earlier version may still be in WAL mode.
        db.execute("PRAGMA journal_mode=DELETE")
        db.executescript(_SCHEMA)

    def _damaged(self, why: str) -> IndexCorrupt:
        return IndexCorrupt(
            f"the index at {self.path} is damaged or is not an index ({why}); "
            f"delete it and index your folders again (imghash index --db {self.path} FOLDER)"
        )

    def check(self) -> None:
        """Raise :class:`IndexCorrupt` unless SQLite's ``quick_check`` finds the file sound."""
        with self._db() as db:
            problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise self._damaged("quick_check: " + "; ".join(problems))

    def close(self) -> None:
        """Nothing stays open between operations; kept for symmetry with other stores."""

    def put(self, record: IndexRecord) -> bool:
        return self.put_many([record]) == 1

    def put_many(self, records: Iterable[IndexRecord]) -> int:
        """Store several records in one transaction (one sync to disk); how many were written."""
        written = 0
        with self._db() as db:
            for record in records:
                written += db.execute(_UPSERT, _row(record)).rowcount > 0
            if written:
                db.execute("UPDATE generation SET value = value + 1")
        return written

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


def _row(record: IndexRecord) -> tuple[object, ...]:
    hashes = [record.hashes.get(name) for name in _ALGORITHMS]
    return (
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
