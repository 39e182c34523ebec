"""The embedded store: one SQLite file, hashes kept as signed int64 and as hex."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from .._algorithms import ALGORITHMS
from .._errors import IndexCorrupt, IndexMissing
from .._hashvalue import DEFAULT_WIDTH, Hash
from ._record import SCALAR_COLUMNS, IndexRecord

__all__ = ["SQLiteStore"]

#: The columns of the hashes: a 64-bit one as a signed int64 and as hex, a wider one
#: (PDQ's 256 bits) as hex only; then each hash's quality, where it has one, as
#: "name=score,..." (PDQ's). A file made before an algorithm joined the registry gains
#: its column when next opened for writing; read-only, a missing column reads as NULL.
_NARROW = tuple(name for name, a in ALGORITHMS.items() if a.bits == DEFAULT_WIDTH)
_HASH_COLUMNS = (
    *_NARROW,
    *(f"{name}_hex" for name in ALGORITHMS),
    "quality",
)
_RECORD_COLUMNS = SCALAR_COLUMNS
#: Columns added after the first release, NULL in the rows of an older file: 1 for a
#: record hashed in fast mode (NULL or 0: exactly).
_LATER_COLUMNS = ("fast",)
_ADDED = (*_HASH_COLUMNS, *_LATER_COLUMNS)
_COLUMNS = (*_RECORD_COLUMNS, *_ADDED)
_TYPES = (
    {name: "INTEGER" for name in _NARROW}
    | {c: "TEXT" for c in _HASH_COLUMNS if c not in _NARROW}
    | {"fast": "INTEGER"}
)

_SCHEMA = f"""
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
    {", ".join(f"{c} {_TYPES[c]}" for c in _ADDED)},
    PRIMARY KEY (bucket, key)
);
CREATE TABLE IF NOT EXISTS generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER);
INSERT OR IGNORE INTO generation VALUES (1, 0);
"""

#: SQLite's error names for a damaged file, or one that is not a database at all.
_DAMAGED = frozenset({"SQLITE_CORRUPT", "SQLITE_CORRUPT_INDEX", "SQLITE_NOTADB"})

# The write rule of every store (see _store.supersedes).
_UPSERT = f"""
INSERT INTO records ({", ".join(_COLUMNS)}) VALUES ({", ".join("?" * len(_COLUMNS))})
ON CONFLICT (bucket, key) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[2:])}
WHERE excluded.sequencer > records.sequencer
   OR (excluded.sequencer = records.sequencer
       AND (excluded.version != records.version OR excluded.profile != records.profile
            OR (coalesce(records.fast, 0) = 1 AND coalesce(excluded.fast, 0) = 0)
            OR {
    " OR ".join(f"(excluded.{n}_hex IS NOT NULL AND records.{n}_hex IS NULL)" for n in ALGORITHMS)
}))
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
        #: What a read selects: the columns, a missing one (an older file) as NULL.
        self._select = ", ".join(_COLUMNS)

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
            held = {str(row[1]) for row in db.execute("PRAGMA table_info(records)")}
            self._select = ", ".join(c if c in held else f"NULL AS {c}" for c in _COLUMNS)
            return
        # An index written by an earlier version may still be in WAL mode.
        db.execute("PRAGMA journal_mode=DELETE")
        db.executescript(_SCHEMA)
        held = {str(row[1]) for row in db.execute("PRAGMA table_info(records)")}
        for column in _ADDED:
            if column not in held:  # a file of an earlier version: no rewrite, NULL for all
                db.execute(f"ALTER TABLE records ADD COLUMN {column} {_TYPES[column]}")

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
                f"SELECT {self._select} FROM records WHERE bucket = ? AND key = ?", (bucket, key)
            ).fetchone()
        return None if row is None else _record(row)

    def scan(self) -> Iterator[IndexRecord]:
        with self._db() as db:
            rows = db.execute(f"SELECT {self._select} FROM records").fetchall()
        return (_record(row) for row in rows)

    def generation(self) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM generation").fetchone()
        return str(row[0])


def _row(record: IndexRecord) -> tuple[object, ...]:
    fields: dict[str, object] = {c: getattr(record, c) for c in _RECORD_COLUMNS}
    fields["low_information"] = int(record.low_information)
    fields["fast"] = int(record.fast)
    for name, value in record.hashes.items():
        if name in _NARROW and len(value) == DEFAULT_WIDTH:
            fields[name] = value.signed
        fields[f"{name}_hex"] = value.hex()
    fields["quality"] = ",".join(f"{n}={q}" for n, q in sorted(record.quality.items())) or None
    return tuple(fields.get(c) for c in _COLUMNS)


def _record(row: tuple[object, ...]) -> IndexRecord:
    fields = dict(zip(_COLUMNS, row, strict=True))

    def text(name: str) -> str | None:
        value = fields[name]
        return None if value is None else str(value)

    def number(name: str) -> int | None:
        value = fields[name]
        return None if value is None else int(value)  # type: ignore[call-overload]

    hashes = {}
    for name in ALGORITHMS:
        signed, digits = fields.get(name), fields[f"{name}_hex"]
        if signed is not None:  # a 64-bit hash, read from its signed form as it always was
            hashes[name] = Hash.from_signed(int(signed))  # type: ignore[call-overload]
        elif digits is not None:
            hashes[name] = Hash.from_hex(str(digits))
    quality = {
        name: int(score)
        for name, score in (item.split("=") for item in (text("quality") or "").split(",") if item)
    }
    return IndexRecord(
        bucket=str(fields["bucket"]),
        key=str(fields["key"]),
        version=str(fields["version"]),
        size=int(fields["size"]),  # type: ignore[call-overload]
        profile=str(fields["profile"]),
        indexed_at=str(fields["indexed_at"]),
        sequencer=str(fields["sequencer"]),
        format=text("format"),
        width=number("width"),
        height=number("height"),
        hashes=hashes,
        quality=quality,
        low_information=bool(fields["low_information"]),
        fast=bool(fields["fast"]),
        error=text("error"),
        error_message=text("error_message"),
    )
