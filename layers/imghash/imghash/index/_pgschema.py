"""The PostgreSQL index's schema: its tables, how hashes are cut into substrings, and
the rebuild that changes the cut (the DDL; the store's statements are in ``_postgres``).

Schema:

- ``records``: one row per object, unique on (bucket, key), written by the rule of
  every store (:func:`._store.supersedes`) in one ``INSERT ... ON CONFLICT``.
- ``hash_spaces``: one row per (profile, algorithm, bits); hashes of two spaces are
  never compared. New algorithms of the registry are added on the next start.
- ``hashes64``: one row per (record, space): the hash as bigint, its substrings.
- ``index_layout``: the substring count m of each hash table (the setting
  ``IMGHASH_DATABASE_SUBSTRINGS``; :meth:`PostgresStore.rebuild` changes it).
- ``profile_counts``: hashed records per profile and a change counter, kept by
  statement-level triggers, so that a search's ``indexed`` and the store's
  generation never count a table.

256-bit hashes (PDQ) live in ``hashes256`` beside ``hashes64``: ``hash bit(256)``, the
hash's ``quality`` (PDQ's 0-100 score), and 16 generated 16-bit substrings
(``substring(hash from 16*i+1 for 16)::integer``), in spaces of 256 bits. At Meta's
threshold of 31 bits, 16 substrings probe at radius 1 (17 values each), the design
of HMA 1.0; their m is fixed (``rebuild`` re-cuts the 64-bit table only). The
statements are generated from a :class:`Layout`; only the hash's type, the
substring expression, the query's cast and the XOR differ. A database made before
PDQ gains the table, its row in ``index_layout`` and the new spaces on the next
start of any writer (the schema statement adds what is missing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from .._algorithms import ALGORITHMS
from .._hashvalue import Hash
from .._profiles import PROFILES
from ._search import ball

__all__ = [
    "BITS",
    "DEFAULT_SUBSTRINGS",
    "WIDE",
    "Layout",
    "plain_name",
    "rebuild_sql",
    "schema_sql",
]

#: Any value, taken as the key of a transaction-scoped advisory lock for schema changes.
_SCHEMA_LOCK = 7_305_112_026
#: The width of today's hashes, and the substring count of a new index.
BITS = 64
DEFAULT_SUBSTRINGS = 4
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Layout:
    """How a hash table cuts its hashes: ``substrings`` pieces of ``widths`` bits, first
    piece most significant (as :mod:`._search` does)."""

    table: str
    bits: int
    substrings: int

    @cached_property
    def widths(self) -> tuple[int, ...]:
        extra = self.bits % self.substrings
        return tuple(
            self.bits // self.substrings + (1 if i < extra else 0) for i in range(self.substrings)
        )

    @cached_property
    def shifts(self) -> tuple[int, ...]:
        ends = [sum(self.widths[: i + 1]) for i in range(self.substrings)]
        return tuple(self.bits - end for end in ends)

    @property
    def hash_type(self) -> str:
        """The column type of a hash: a bigint (two's complement) or a bit string."""
        return "bigint" if self.bits == BITS else f"bit({self.bits})"

    @property
    def scored(self) -> bool:
        """Whether the table keeps each hash's quality score (PDQ's, in the wide table)."""
        return self.bits != BITS

    def substring_sql(self, part: int) -> str:
        """The generated column of substring ``part`` (0-based), from the hash."""
        if self.bits == BITS:
            mask = (1 << self.widths[part]) - 1
            return f"((hash >> {self.shifts[part]}) & {mask})::integer"
        start = self.bits - self.shifts[part] - self.widths[part] + 1
        return f"substring(hash from {start} for {self.widths[part]})::integer"

    def hex_sql(self, column: str) -> str:
        """The hash in ``column`` as lowercase hex digits (to_hex of 64-bit pieces)."""
        pieces = (
            [column]
            if self.bits == BITS
            else [
                f"CAST(substring({column} from {start} for 64) AS bigint)"
                for start in range(1, self.bits, 64)
            ]
        )
        return " || ".join(f"lpad(to_hex({piece}), 16, '0')" for piece in pieces)

    def query_sql(self, name: str) -> str:
        """The parameter ``name`` (from :meth:`query_param`) as a value of the hash's type."""
        if self.bits == BITS:
            return f"CAST(:{name} AS bigint)"
        return f"CAST('x' || :{name} AS {self.hash_type})"

    def query_param(self, query: Hash) -> int | str:
        """A query hash as a parameter either transport carries: a signed bigint, or hex."""
        return query.signed if self.bits == BITS else query.hex()

    def distance_sql(self, column: str, name: str) -> str:
        """The Hamming distance between the hash in ``column`` and the query ``name``."""
        if self.bits == BITS:
            return f"bit_count(CAST({column} # {self.query_sql(name)} AS bit(64)))"
        return f"bit_count({column} # {self.query_sql(name)})"

    def probes(self, query: int, k: int) -> list[str]:
        """Per substring, every value within ``k // m`` bits of the query's, as an array
        literal (the Data API takes no array parameters; a cast in the SQL reads it)."""
        radius = k // self.substrings
        found = []
        for width, shift in zip(self.widths, self.shifts, strict=True):
            mine = (query >> shift) & ((1 << width) - 1)
            values = (ball(radius, width) ^ mine).tolist()
            found.append("{" + ",".join(map(str, values)) + "}")
        return found


#: The table of 256-bit hashes (PDQ): 16 substrings of 16 bits, radius 1 at k = 31.
WIDE = Layout("hashes256", 256, 16)


def _substring_columns(layout: Layout) -> list[str]:
    """The generated columns and their indexes, as statements for a DO block."""
    adds = ", ".join(
        f"ADD COLUMN s{i + 1} integer GENERATED ALWAYS AS ({layout.substring_sql(i)}) STORED"
        for i in range(layout.substrings)
    )
    found = [f"ALTER TABLE {layout.table} {adds};"]
    found += [
        f"CREATE INDEX {layout.table}_s{i + 1} ON {layout.table} (space, s{i + 1}) "
        "INCLUDE (hash, id);"
        for i in range(layout.substrings)
    ]
    return found


def plain_name(name: str) -> str:
    """A name inlined in DDL (a registry entry, a role): checked to be a plain identifier."""
    if not _NAME.match(name):
        raise ValueError(f"not a plain name: {name!r}")
    return name


def _literal(name: str) -> str:
    return f"'{plain_name(name)}'"


def _hash_table(layout: Layout) -> str:
    """The statements that make a hash table and record its layout, unless it exists."""
    columns = "\n        ".join(_substring_columns(layout))
    quality = "\n            quality smallint," if layout.scored else ""
    return f"""
    IF NOT EXISTS (SELECT 1 FROM index_layout WHERE hash_table = '{layout.table}') THEN
        CREATE TABLE {layout.table} (
            id bigint NOT NULL REFERENCES records (id) ON DELETE CASCADE,
            space smallint NOT NULL,
            hash {layout.hash_type} NOT NULL,{quality}
            PRIMARY KEY (id, space)
        );
        {columns}
        INSERT INTO index_layout VALUES ('{layout.table}', {layout.bits}, {layout.substrings});
    END IF;"""


def schema_sql(layout: Layout) -> str:
    """Creates whatever is missing, in one transaction, one schema change at a time: run
    at every start (first use in a Lambda, deploy time in the stack), harmless when done.
    ``layout`` is the 64-bit table's (m is a setting); the 256-bit one is :data:`WIDE`."""
    spaces = ", ".join(
        f"({_literal(p)}, {_literal(a.name)}, {a.bits})"
        for p in sorted(PROFILES)
        for a in ALGORITHMS.values()
    )
    return f"""
DO $schema$
BEGIN
    PERFORM pg_advisory_xact_lock({_SCHEMA_LOCK});
    CREATE TABLE IF NOT EXISTS records (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        bucket text NOT NULL,
        key text NOT NULL,
        version text NOT NULL,
        sequencer text NOT NULL,
        size bigint NOT NULL,
        profile text NOT NULL,
        indexed_at text NOT NULL,
        format text,
        width integer,
        height integer,
        low_information boolean NOT NULL,
        error text,
        error_message text,
        fast boolean NOT NULL DEFAULT false,
        UNIQUE (bucket, key)
    );
    -- A database made before fast-mode records: every record it holds was hashed exactly.
    ALTER TABLE records ADD COLUMN IF NOT EXISTS fast boolean NOT NULL DEFAULT false;
    CREATE TABLE IF NOT EXISTS hash_spaces (
        id smallint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        profile text NOT NULL,
        algorithm text NOT NULL,
        bits integer NOT NULL,
        UNIQUE (profile, algorithm)
    );
    INSERT INTO hash_spaces (profile, algorithm, bits) VALUES {spaces}
    ON CONFLICT (profile, algorithm) DO NOTHING;
    CREATE TABLE IF NOT EXISTS index_layout (
        hash_table text PRIMARY KEY,
        bits integer NOT NULL,
        substrings integer NOT NULL
    );
{_hash_table(layout)}{_hash_table(WIDE)}
    CREATE TABLE IF NOT EXISTS profile_counts (
        profile text PRIMARY KEY,
        hashed bigint NOT NULL DEFAULT 0,
        changes bigint NOT NULL DEFAULT 0
    );
    -- Per statement, from its transition tables: a COPY of millions of rows is one update.
    -- Rows are locked in profile order, so concurrent writers cannot deadlock here.
    CREATE OR REPLACE FUNCTION imghash_count_records() RETURNS trigger
    LANGUAGE plpgsql AS $count$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO profile_counts AS c (profile, hashed, changes)
            SELECT profile, count(*) FILTER (WHERE error IS NULL), count(*)
            FROM new_rows GROUP BY profile ORDER BY profile
            ON CONFLICT (profile) DO UPDATE
            SET hashed = c.hashed + excluded.hashed, changes = c.changes + excluded.changes;
        ELSIF TG_OP = 'UPDATE' THEN
            INSERT INTO profile_counts AS c (profile, hashed, changes)
            SELECT profile, sum(delta), count(*) FROM (
                SELECT profile, (error IS NULL)::integer AS delta FROM new_rows
                UNION ALL
                SELECT profile, -(error IS NULL)::integer FROM old_rows
            ) AS moved GROUP BY profile ORDER BY profile
            ON CONFLICT (profile) DO UPDATE
            SET hashed = c.hashed + excluded.hashed, changes = c.changes + excluded.changes;
        ELSE
            INSERT INTO profile_counts AS c (profile, hashed, changes)
            SELECT profile, -count(*) FILTER (WHERE error IS NULL), count(*)
            FROM old_rows GROUP BY profile ORDER BY profile
            ON CONFLICT (profile) DO UPDATE
            SET hashed = c.hashed + excluded.hashed, changes = c.changes + excluded.changes;
        END IF;
        RETURN NULL;
    END
    $count$;
    CREATE OR REPLACE TRIGGER records_inserted AFTER INSERT ON records
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION imghash_count_records();
    CREATE OR REPLACE TRIGGER records_updated AFTER UPDATE ON records
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION imghash_count_records();
    CREATE OR REPLACE TRIGGER records_deleted AFTER DELETE ON records
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION imghash_count_records();
END
$schema$
"""


def rebuild_sql(layout: Layout) -> str:
    """Re-cuts a hash table into ``layout.substrings`` pieces: the old columns and their
    indexes dropped, the new ones computed in one table rewrite. Searches and writes
    wait for it (the table is locked); nothing else is touched."""
    columns = "\n    ".join(_substring_columns(layout))
    return f"""
DO $rebuild$
DECLARE
    old integer;
BEGIN
    PERFORM pg_advisory_xact_lock({_SCHEMA_LOCK});
    SELECT substrings INTO old FROM index_layout WHERE hash_table = '{layout.table}' FOR UPDATE;
    FOR part IN 1..old LOOP
        EXECUTE format('ALTER TABLE {layout.table} DROP COLUMN IF EXISTS s%s', part);
    END LOOP;
    {columns}
    UPDATE index_layout SET substrings = {layout.substrings}
    WHERE hash_table = '{layout.table}';
END
$rebuild$
"""
