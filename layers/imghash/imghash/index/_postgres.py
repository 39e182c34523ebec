"""The PostgreSQL store: records, and exact Hamming search in plain SQL (DESIGN §8).

The same named statements run through psycopg (any PostgreSQL >= 14: local, RDS,
pgserver in tests) and through the RDS Data API (Aurora, no VPC); each statement is
one round trip and one transaction, so neither transport needs a session.

Search is multi-index hashing (Norouzi, Punjani and Fleet, CVPR 2012), as
:mod:`._search` does it in memory: each 64-bit hash is cut into m substrings, stored
as generated integer columns ``s1..sm`` of ``hashes64``, each with a B-tree index
``(space, sN) INCLUDE (hash, id)``. A hash within distance k of the query has, by
the pigeonhole principle, some substring within ``k // m`` bits of the query's, so
the union of m index-only probes (``sN = ANY(every value that close)``) holds every
true match; each candidate is verified with ``bit_count(hash # q) <= k``. Nothing is
approximate and no extension is needed. PDQ's 256-bit hashes are searched the same
way in ``hashes256``, cut into 16 substrings. A dihedral search's queries (up to eight
hashes) are one statement: each query's probes and verification, and each record at
its nearest. The tables are in ``_pgschema``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from .._algorithms import ALGORITHMS
from .._errors import IndexMissing, InvalidRequest
from .._hashvalue import Hash
from .._settings import SUBSTRINGS, Settings
from ._pgschema import BITS, DEFAULT_SUBSTRINGS, WIDE, Layout, rebuild_sql, schema_sql
from ._record import SCALAR_COLUMNS, IndexRecord
from ._search import check_search

__all__ = [
    "Executor",
    "PostgresStore",
    "Result",
    "is_database_url",
    "masked",
    "search_params",
    "search_sql",
]

#: Parameters are written ``:name`` in every statement (the Data API's form).
Param = str | int | bool | None


def is_database_url(location: str) -> bool:
    """Whether an index location names a PostgreSQL database rather than a SQLite file."""
    return location.startswith(("postgresql://", "postgres://"))


def masked(url: str) -> str:
    """A database URL fit for messages and logs: the password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


@dataclass(frozen=True)
class Result:
    """What a statement gave: its rows, and how many rows it changed."""

    rows: list[tuple[Any, ...]]
    count: int


class Executor(Protocol):
    """Runs one statement (``:name`` parameters) as one transaction: psycopg or the Data API."""

    def run(self, sql: str, params: Mapping[str, Param] | None = None) -> Result:
        """Execute ``sql`` and return its rows."""

    def close(self) -> None:
        """Release connections."""


# --- the statements -----------------------------------------------------------------

_RECORD_COLUMNS = (*SCALAR_COLUMNS, "fast")
_SELECT_RECORD = ", ".join(f"r.{c}" for c in _RECORD_COLUMNS)


def _hashes_of(alias: str) -> str:
    """A record's hashes as 'name=hex[=quality],...': one text value over either transport."""
    narrow = Layout("hashes64", BITS, DEFAULT_SUBSTRINGS)  # (its hex form does not depend on m)
    return f"""(SELECT string_agg(item, ',' ORDER BY item) FROM (
        SELECT s.algorithm || '=' || {narrow.hex_sql("h.hash")} AS item
        FROM hashes64 h JOIN hash_spaces s ON s.id = h.space WHERE h.id = {alias}.id
        UNION ALL
        SELECT s.algorithm || '=' || {WIDE.hex_sql("h.hash")} || coalesce('=' || h.quality, '')
        FROM {WIDE.table} h JOIN hash_spaces s ON s.id = h.space WHERE h.id = {alias}.id
    ) AS items) AS hashes"""


# The write rule of every store (see _store.supersedes), then the record's hashes, each
# in the table of its width: stale spaces removed, the others written, all in the
# record's one transaction.
PUT = f"""
WITH upserted AS (
    INSERT INTO records AS r ({", ".join(_RECORD_COLUMNS)})
    VALUES (:bucket, :key, :version, :sequencer, CAST(:size AS bigint), :profile, :indexed_at,
            :format, CAST(:width AS integer), CAST(:height AS integer), :low_information,
            :error, :error_message, :fast)
    ON CONFLICT (bucket, key) DO UPDATE SET
        {", ".join(f"{c} = excluded.{c}" for c in _RECORD_COLUMNS[2:])}
    WHERE excluded.sequencer > r.sequencer
       OR (excluded.sequencer = r.sequencer
           AND (excluded.version <> r.version OR excluded.profile <> r.profile
                OR (r.fast AND NOT excluded.fast)  -- an exact hash replaces a fast one
                OR EXISTS (  -- hashed by an algorithm the stored record lacks
                    SELECT 1 FROM unnest(string_to_array(:hashes, ',')) AS item
                    JOIN hash_spaces s
                      ON s.profile = r.profile AND s.algorithm = split_part(item, '=', 1)
                    WHERE NOT EXISTS (SELECT 1 FROM hashes64 h WHERE h.id = r.id AND h.space = s.id)
                      AND NOT EXISTS (
                          SELECT 1 FROM {WIDE.table} h WHERE h.id = r.id AND h.space = s.id))))
    RETURNING r.id, r.profile
), given AS (
    SELECT split_part(item, '=', 1) AS algorithm, split_part(item, '=', 2) AS hex,
           CAST(NULLIF(split_part(item, '=', 3), '') AS smallint) AS quality
    FROM unnest(string_to_array(:hashes, ',')) AS item
), fresh AS (
    SELECT u.id, s.id AS space, s.bits, g.hex, g.quality
    FROM upserted u
    JOIN hash_spaces s ON s.profile = u.profile
    JOIN given g ON g.algorithm = s.algorithm AND length(g.hex) * 4 = s.bits
), cleared AS (
    DELETE FROM hashes64 h USING upserted u
    WHERE h.id = u.id AND h.space NOT IN (SELECT space FROM fresh)
), cleared_wide AS (
    DELETE FROM {WIDE.table} h USING upserted u
    WHERE h.id = u.id AND h.space NOT IN (SELECT space FROM fresh)
), written AS (
    INSERT INTO hashes64 (id, space, hash)
    SELECT id, space, CAST(CAST('x' || hex AS bit(64)) AS bigint) FROM fresh WHERE bits = {BITS}
    ON CONFLICT (id, space) DO UPDATE SET hash = excluded.hash
), written_wide AS (
    INSERT INTO {WIDE.table} (id, space, hash, quality)
    SELECT id, space, CAST('x' || hex AS {WIDE.hash_type}), quality
    FROM fresh WHERE bits = {WIDE.bits}
    ON CONFLICT (id, space) DO UPDATE SET hash = excluded.hash, quality = excluded.quality
)
SELECT count(*) FROM upserted
"""

# A delete older than the stored write changes nothing; the hashes go with the record.
DELETE = """
DELETE FROM records
WHERE bucket = :bucket AND key = :key AND (:sequencer = '' OR sequencer <= :sequencer)
"""

GET = f"""
SELECT {_SELECT_RECORD}, {_hashes_of("r")}
FROM records r WHERE r.bucket = :bucket AND r.key = :key
"""

# Keyset pages: bounded answers (the Data API returns at most 1 MB) and no OFFSET.
SCAN_PAGE = f"""
SELECT r.id, {_SELECT_RECORD}, {_hashes_of("r")}
FROM records r WHERE r.id > CAST(:after AS bigint) ORDER BY r.id LIMIT CAST(:page AS integer)
"""

GENERATION = "SELECT CAST(coalesce(sum(changes), 0) AS bigint) FROM profile_counts"

LAYOUTS = "SELECT hash_table, substrings FROM index_layout"

# Whether the records table has its ``fast`` column (a database made before it has not).
FAST_COLUMN = """
SELECT EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = 'records'
                 AND column_name = 'fast')
"""

# Whether the schema was made (the last table the schema makes), without failing if not.
SCHEMA_EXISTS = "SELECT to_regclass('profile_counts') IS NOT NULL"


def _probe(part: int, query: int, queries: int) -> str:
    """The name of the parameter holding query ``query``'s probes of substring ``part``."""
    return f"p{part + 1}" if queries == 1 else f"p{part + 1}_{query + 1}"


def search_params(layout: Layout, queries: Sequence[Hash], k: int) -> dict[str, Param]:
    """The queries ``:q1``.. and their probes, as :func:`search_sql` names them."""
    params: dict[str, Param] = {}
    for n, query in enumerate(queries):
        params[f"q{n + 1}"] = layout.query_param(query)
        for part, values in enumerate(layout.probes(query.value, k)):
            params[_probe(part, n, len(queries))] = values
    return params


def search_sql(layout: Layout, queries: int = 1) -> str:
    """Every hash of a space within ``:k`` of the query ``:q1`` (or of the nearest of
    ``queries`` of them, ``:q1``..: a dihedral search's), nearest first, ties by bucket
    and key in code-point order (``COLLATE "C"``, as Python orders strings), at most
    ``:limit`` (NULL: all); and, always in the first row, the profile's hashed count.

    Each query probes its own substrings and verifies its own candidates: the union
    over the queries, each record at its nearest, is exact as each query's search is."""
    branches = []
    for n in range(queries):
        distance = layout.distance_sql("h.hash", f"q{n + 1}")
        for part in range(layout.substrings):
            probe = _probe(part, n, queries)
            branches.append(
                f"""    SELECT h.id, {distance} AS distance FROM {layout.table} h
    WHERE h.space = (SELECT id FROM wanted) AND h.s{part + 1} = ANY(CAST(:{probe} AS integer[]))
      AND {distance} <= CAST(:k AS integer)"""
            )
    near = "\n    UNION\n".join(branches)
    if queries > 1:
        near = f"    SELECT id, min(distance) AS distance FROM (\n{near}\n    ) AS near GROUP BY id"
    order = 'f.distance, f.bucket COLLATE "C", f.key COLLATE "C"'
    return f"""
WITH wanted AS (
    SELECT id FROM hash_spaces
    WHERE profile = :profile AND algorithm = :algorithm AND bits = {layout.bits}
), hits AS (
{near}
), found AS (
    SELECT hits.distance, r.id, {_SELECT_RECORD}
    FROM hits JOIN records r ON r.id = hits.id
    ORDER BY hits.distance, r.bucket COLLATE "C", r.key COLLATE "C"
    LIMIT CAST(:limit AS bigint)
)
SELECT c.total, f.distance, {", ".join(f"f.{c}" for c in _RECORD_COLUMNS)},
       {_hashes_of("f")}
FROM (SELECT coalesce((SELECT hashed FROM profile_counts WHERE profile = :profile), 0)
      AS total) c
LEFT JOIN found f ON true
ORDER BY {order}
"""


# --- the store ----------------------------------------------------------------------


class PostgresStore:
    """Index records in PostgreSQL, searched in SQL. The schema is made on first use.

    ``executor`` carries the statements: :class:`._pgwire.Psycopg` (a pool, or in a
    Lambda one connection kept across invocations) or :class:`._rdsdata.DataApi`.
    ``substrings`` is the wanted m (None: whatever the database holds).
    """

    #: Records a scan reads per statement.
    SCAN_PAGE = 500

    def __init__(
        self,
        executor: Executor,
        *,
        substrings: int | None = None,
        location: str = "",
        manage_schema: bool = True,
    ) -> None:
        if substrings is not None and substrings not in SUBSTRINGS:
            raise InvalidRequest(
                f"substrings={substrings} is outside {SUBSTRINGS.start}..{SUBSTRINGS.stop - 1}"
            )
        self.executor = executor
        self.wanted = substrings
        self.location = location
        #: Make the schema on first use; off where the database user may not (the stack's
        #: functions, whose schema is made at deploy time: see ``_setup``).
        self.manage_schema = manage_schema
        self._layout: Layout | None = None
        self._search_sql: dict[tuple[int, int], str] = {}

    @classmethod
    def connect(
        cls, url: str, settings: Settings | None = None, *, read_only: bool = False
    ) -> PostgresStore:
        """A store on the database at ``url`` through psycopg; ``read_only`` (searching)
        makes no schema and raises :class:`~imghash.IndexMissing` when there is none."""
        from ._pgwire import Psycopg

        settings = settings or Settings()
        executor = Psycopg(url, pool_size=settings.database_pool, reuse_one=settings.in_lambda)
        return cls(
            executor,
            substrings=settings.database_substrings,
            location=masked(url),
            manage_schema=not read_only,
        )

    @classmethod
    def data_api(
        cls, settings: Settings, client: Any = None, *, manage_schema: bool = False
    ) -> PostgresStore:
        """A store on an Aurora cluster through the RDS Data API (settings ``IMGHASH_AURORA_*``),
        whose schema is made at deploy time unless ``manage_schema``."""
        from ._rdsdata import DataApi

        executor = DataApi(
            settings.aurora_cluster_arn,
            settings.aurora_secret_arn,
            settings.aurora_database,
            client=client,
        )
        return cls(
            executor,
            substrings=settings.database_substrings,
            location=f"{settings.aurora_cluster_arn}/{settings.aurora_database}",
            manage_schema=manage_schema,
        )

    def close(self) -> None:
        self.executor.close()

    @property
    def layout(self) -> Layout:
        """The database's layout, read once (the schema made first, when this store may)."""
        if self._layout is None:
            if self.manage_schema:
                self.setup()
            elif not self.executor.run(SCHEMA_EXISTS).rows[0][0]:
                raise IndexMissing(
                    f"there is no index at {self.location} yet: `imghash index --db URL` "
                    "makes one (in AWS, the stack's IndexSchema resource at deploy time)"
                )
            tables = dict(self.executor.run(LAYOUTS).rows)
            if WIDE.table not in tables:  # a database made before PDQ, opened read-only
                raise IndexMissing(
                    f"the index at {self.location} predates PDQ and has no table of 256-bit "
                    "hashes yet: open it once for writing (`imghash index --db URL`; in AWS, "
                    "deploy the stack) and it is added"
                )
            if not self.manage_schema and not self.executor.run(FAST_COLUMN).rows[0][0]:
                raise IndexMissing(  # a writer has just added the column: only readers look
                    f"the index at {self.location} predates fast-mode records: open it once "
                    "for writing (`imghash index --db URL`; in AWS, deploy the stack) and "
                    "its column is added"
                )
            held = tables["hashes64"]
            if self.wanted is not None and held != self.wanted:
                raise InvalidRequest(
                    f"the index at {self.location} cuts hashes into {held} substrings, not "
                    f"{self.wanted} (IMGHASH_DATABASE_SUBSTRINGS): run `imghash rebuild "
                    f"--substrings {self.wanted}` to change it, or unset the setting"
                )
            self._layout = Layout("hashes64", BITS, int(held))
            self._search_sql = {}
        return self._layout

    def _statement(self, layout: Layout, queries: int) -> str:
        """The search statement of ``layout`` for that many queries, made once."""
        key = (layout.bits, queries)
        if key not in self._search_sql:
            self._search_sql[key] = search_sql(layout, queries)
        return self._search_sql[key]

    def setup(self) -> None:
        """Make whatever of the schema is missing (idempotent; new algorithms' spaces too)."""
        self.executor.run(schema_sql(Layout("hashes64", BITS, self.wanted or DEFAULT_SUBSTRINGS)))

    def _run(self, sql: str, params: Mapping[str, Param] | None = None) -> Result:
        _ = self.layout  # the schema exists before any statement uses it
        return self.executor.run(sql, params)

    def rebuild(self, substrings: int) -> Layout:
        """Re-cut every hash into ``substrings`` pieces (a migration of m); returns the layout."""
        if substrings not in SUBSTRINGS:
            raise InvalidRequest(
                f"substrings={substrings} is outside {SUBSTRINGS.start}..{SUBSTRINGS.stop - 1}"
            )
        self.wanted = None  # whatever the database holds now is about to change
        if self.layout.substrings != substrings:
            self.executor.run(rebuild_sql(Layout("hashes64", BITS, substrings)))
        self.wanted, self._layout = substrings, None
        return self.layout

    def put(self, record: IndexRecord) -> bool:
        hashes = ",".join(
            f"{name}={value.hex()}" + (f"={record.quality[name]}" if name in record.quality else "")
            for name, value in sorted(record.hashes.items())
        )
        params: dict[str, Param] = {c: getattr(record, c) for c in _RECORD_COLUMNS}
        params["hashes"] = hashes
        return int(self._run(PUT, params).rows[0][0]) > 0

    def delete(self, bucket: str, key: str, sequencer: str = "") -> bool:
        params = {"bucket": bucket, "key": key, "sequencer": sequencer}
        return self._run(DELETE, params).count > 0

    def get(self, bucket: str, key: str) -> IndexRecord | None:
        rows = self._run(GET, {"bucket": bucket, "key": key}).rows
        return _record(rows[0]) if rows else None

    def scan(self) -> Iterator[IndexRecord]:
        after = 0
        while True:
            rows = self._run(SCAN_PAGE, {"after": after, "page": self.SCAN_PAGE}).rows
            for row in rows:
                yield _record(row[1:])
            if len(rows) < self.SCAN_PAGE:
                return
            after = int(rows[-1][0])

    def generation(self) -> str | None:
        return str(self._run(GENERATION).rows[0][0])

    def search(
        self,
        queries: Sequence[Hash],
        *,
        algorithm: str,
        max_distance: int,
        limit: int | None,
        profile: str,
    ) -> tuple[list[tuple[IndexRecord, int, int]], int]:
        """Every record of ``profile`` within ``max_distance`` of some query on ``algorithm``,
        at its nearest query, nearest first (ties by bucket and key), at most ``limit``;
        and how many records the profile holds (see :class:`._store.SearchingStore`)."""
        check_search(queries, algorithm, max_distance, limit)
        narrow = self.layout  # the schema and its layouts, read once
        layout = narrow if ALGORITHMS[algorithm].bits == BITS else WIDE
        params: dict[str, Param] = {
            "profile": profile,
            "algorithm": algorithm,
            "k": max_distance,
            "limit": limit,
            **search_params(layout, queries, max_distance),
        }
        rows = self.executor.run(self._statement(layout, len(queries)), params).rows
        total = int(rows[0][0])
        found = []
        for row in rows:
            if row[1] is None:
                continue
            record, distance = _record(row[2:]), int(row[1])
            # The nearest query, the first of equals: SQL gave the distance to the nearest
            # and the record's hash, so which one it was is read off the hash.
            mine = record.hashes[algorithm]
            which = min(range(len(queries)), key=lambda n: (mine.distance(queries[n]), n))
            found.append((record, distance, which))
        return found, total


def _record(row: Sequence[Any]) -> IndexRecord:
    """A record from its columns (in ``_RECORD_COLUMNS`` order) and its 'name=hex' hashes."""
    fields = dict(zip(_RECORD_COLUMNS, row, strict=False))
    text = row[len(_RECORD_COLUMNS)]
    hashes, quality = {}, {}
    for item in (text or "").split(","):
        if item:
            name, value, *score = item.split("=")
            hashes[name] = Hash.from_hex(value)
            if score:
                quality[name] = int(score[0])
    return IndexRecord(
        bucket=fields["bucket"],
        key=fields["key"],
        version=fields["version"],
        size=int(fields["size"]),
        profile=fields["profile"],
        indexed_at=fields["indexed_at"],
        sequencer=fields["sequencer"],
        format=fields["format"],
        width=fields["width"],
        height=fields["height"],
        hashes=hashes,
        quality=quality,
        low_information=bool(fields["low_information"]),
        error=fields["error"],
        error_message=fields["error_message"],
        fast=bool(fields["fast"]),
    )
