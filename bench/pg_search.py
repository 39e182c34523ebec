"""Search at 10^7 hashes in PostgreSQL (DESIGN §8, §9): exact multi-index hashing in SQL
against the in-memory HashIndex and a numpy scan, in the same run, on the same hashes.

A throwaway server (pgserver, the tests' PostgreSQL) is loaded with COPY; then, per k,
100 queries with planted neighbours are run on each method in turn (interleaved, so
that the machine's load hits all alike) and the answers compared: all three must find
the same records. "First pass" is each query's first run after a server restart (empty
shared buffers; the operating system's cache is left alone, as this machine is shared);
"warm" is the median over three more passes. Then single inserts into the full table,
each searched for right after its commit, and the disk each row takes.

Then PDQ on the same server: 256-bit hashes for the first 10^6 records (16 substring
indexes of 10^6 entries: loading 10^7 would take this run's time several times over),
searched at Meta's threshold k = 31, one query and a dihedral search's eight, against
the in-memory HashIndex and a numpy scan on the same hashes.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from common import table
from search import PDQ_K, _data, _int

from imghash import Hash
from imghash.index import HashIndex, IndexRecord, PostgresStore
from imghash.index._pgschema import WIDE

N = 10**7
KS = (10, 12)
#: PDQ hashes loaded (records 1..N_PDQ get one): 16 indexes of them build in about a minute.
N_PDQ = 10**6
WARM_PASSES = 3
INSERTS = 300
CHUNK = 1_000_000
# Settings of a throwaway benchmark server: durability off for the load (nothing here
# must survive a crash), memory as a small database host would give it.
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "2GB",
    "maintenance_work_mem": "1GB",
    "work_mem": "64MB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
    "max_parallel_maintenance_workers": "1",
    "max_parallel_workers_per_gather": "0",
    "jit": "off",
}


@contextmanager
def _server() -> Iterator[Any]:
    folder = Path(tempfile.mkdtemp(prefix="imghash-bench-postgres-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            server = pgserver.get_server(folder / "data", cleanup_mode="stop")
        try:
            import psycopg

            with psycopg.connect(server.get_uri(), autocommit=True) as admin:
                for name, value in SERVER_SETTINGS.items():
                    admin.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            _restart(server)
            yield server
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _restart(server: Any) -> None:
    """Restart the server: settings that need it take effect, shared buffers are emptied."""
    from pgserver import _commands

    _commands.pg_ctl(
        ["-w", "-l", str(server.log), "restart"], pgdata=server.pgdata, user=server.system_user
    )


def _copy(db: Any, sql: str, lines: Callable[[int, int], str], n: int) -> None:
    with db.cursor() as cursor, cursor.copy(sql) as copy:
        for start in range(0, n, CHUNK):
            copy.write(lines(start, min(n, start + CHUNK)))


def _load(url: str, values: np.ndarray) -> dict[str, float]:
    """COPY the records and their hashes, indexes built after; returns timings."""
    import psycopg

    store = PostgresStore.connect(url)
    _ = store.layout  # the schema, made as any first use makes it
    store.close()
    n = int(values.size)
    signed = values.view(np.int64)
    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as db:
        space = db.execute(
            "SELECT id FROM hash_spaces WHERE profile = 'jimp' AND algorithm = 'phash'"
        ).fetchone()[0]  # type: ignore[index]
        for part in range(1, 5):
            db.execute(f"DROP INDEX hashes64_s{part}")
        # Bulk load: foreign-key and count triggers off for the COPY (the counts are
        # set from the result after), as a restore would do.
        db.execute("SET session_replication_role = replica")
        start = time.perf_counter()
        _copy(
            db,
            "COPY records (bucket, key, version, sequencer, size, profile, indexed_at, format,"
            " width, height, low_information) FROM STDIN",
            lambda a, b: "".join(
                f"bench\timages/{i:08d}.jpg\tv1\t\t123456\tjimp\t2026-06-02T00:00:00Z\tjpeg"
                "\t640\t480\tf\n"
                for i in range(a, b)
            ),
            n,
        )
        _copy(
            db,
            "COPY hashes64 (id, space, hash) FROM STDIN",
            lambda a, b: "".join(
                f"{i + 1}\t{space}\t{v}\n"
                for i, v in zip(range(a, b), signed[a:b].tolist(), strict=True)
            ),
            n,
        )
        timings["copy"] = time.perf_counter() - start
        db.execute("SET session_replication_role = DEFAULT")
        first, last, count = db.execute("SELECT min(id), max(id), count(*) FROM records").fetchone()  # type: ignore[misc]
        assert (first, last, count) == (1, n, n), "record ids are not 1..n"
        db.execute(
            "INSERT INTO profile_counts (profile, hashed, changes) VALUES ('jimp', %s, %s)",
            (n, n),
        )
        start = time.perf_counter()
        for part in range(1, 5):
            db.execute(
                f"CREATE INDEX hashes64_s{part} ON hashes64 (space, s{part}) INCLUDE (hash, id)"
            )
        timings["index"] = time.perf_counter() - start
        start = time.perf_counter()
        db.execute("VACUUM ANALYZE")
        timings["vacuum"] = time.perf_counter() - start
    return timings


def _sizes(url: str, n: int) -> list[list[str]]:
    import psycopg

    rows = []
    with psycopg.connect(url) as db:
        for name, sql in (
            ("records (heap and its 2 indexes)", "pg_total_relation_size('records')"),
            ("hashes64 heap", "pg_relation_size('hashes64')"),
            ("hashes64 primary key", "pg_relation_size('hashes64_pkey')"),
            (
                "4 substring indexes (the hot set)",
                "(SELECT sum(pg_relation_size(c.oid)) FROM pg_class c"
                " WHERE c.relname LIKE 'hashes64_s_')",
            ),
            ("database", "pg_database_size(current_database())"),
        ):
            size = int(db.execute(f"SELECT {sql}").fetchone()[0])  # type: ignore[index]
            rows.append([name, f"{size / 2**30:.2f} GiB", f"{size / n:.0f} B"])
    return rows


def _ms(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return (
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
    )


def _searches(
    store: PostgresStore,
    index: HashIndex,
    queries: np.ndarray,
    k: int,
    first: bool,
    algorithm: str = "phash",
    others: tuple[int, ...] = (),
) -> dict[str, list[float]]:
    """One pass of every query (with ``others``: a dihedral search's eight) on each method,
    interleaved; the answers compared."""
    width = index.width
    times: dict[str, list[float]] = {"postgres": [], "memory": [], "scan": []}
    for row in queries:
        q = _int(row)
        asked = [Hash(q, width), *(Hash(o, width) for o in others)]
        start = time.perf_counter()
        found, _ = store.search(
            asked, algorithm=algorithm, max_distance=k, limit=None, profile="jimp"
        )
        times["postgres"].append(time.perf_counter() - start)
        start = time.perf_counter()
        hits = [(p, d) for p, d, _ in index.search_many([q, *others], k)]
        times["memory"].append(time.perf_counter() - start)
        if not first and not others:
            start = time.perf_counter()
            scanned = index.scan(q, k)
            times["scan"].append(time.perf_counter() - start)
            assert set(scanned[0].tolist()) == {p for p, _ in hits}, "scan and index disagree"
        in_sql = sorted((int(r.key[7:15]), d) for r, d, _ in found)
        assert in_sql == sorted(hits), "PostgreSQL and the in-memory index disagree"
    return times


def _inserts(store: PostgresStore, rng: np.random.Generator) -> tuple[float, float, int]:
    """Single conditional writes into the full index, each searched for after its commit
    (and deleted after, so that the index is the loaded one again)."""
    times, found = [], 0
    for i, value in enumerate(rng.integers(0, 2**64, INSERTS, dtype=np.uint64).tolist()):
        hashes = {"phash": Hash(value)}
        record = IndexRecord("bench", f"new/{i}.jpg", "v1", 1, "jimp", hashes=hashes)
        start = time.perf_counter()
        store.put(record)
        times.append(time.perf_counter() - start)
        matches, _ = store.search(
            [Hash(value)], algorithm="phash", max_distance=0, limit=None, profile="jimp"
        )
        found += any(r.key == record.key for r, _, _ in matches)
    for i in range(INSERTS):
        store.delete("bench", f"new/{i}.jpg")
    p50, p99 = _ms(times)
    return p50, p99, found


def _passes(
    store: PostgresStore, index: HashIndex, queries: np.ndarray, k: int, **more: Any
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The first pass, then each query's median over the warm passes, per method."""
    first = _searches(store, index, queries, k, first=True, **more)
    runs = [_searches(store, index, queries, k, first=False, **more) for _ in range(WARM_PASSES)]
    warm = {
        name: [statistics.median(t) for t in zip(*(r[name] for r in runs), strict=True)]
        for name in runs[0]
    }
    return first, warm


def _load_pdq(url: str, values: np.ndarray) -> dict[str, float]:
    """COPY PDQ hashes for records 1..len(values), the substring indexes built after."""
    import psycopg

    n = len(values)
    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as db:
        space = db.execute(
            "SELECT id FROM hash_spaces WHERE profile = 'jimp' AND algorithm = 'pdq'"
        ).fetchone()[0]  # type: ignore[index]
        for part in range(1, WIDE.substrings + 1):
            db.execute(f"DROP INDEX {WIDE.table}_s{part}")
        hexes = [values[a : a + CHUNK].astype(">u8").tobytes().hex() for a in range(0, n, CHUNK)]
        db.execute("SET session_replication_role = replica")  # no foreign-key checks
        start = time.perf_counter()
        _copy(
            db,
            f"COPY {WIDE.table} (id, space, hash, quality) FROM STDIN",
            lambda a, b: "".join(
                f"{i + 1}\t{space}\tx{hexes[i // CHUNK][(i % CHUNK) * 64 : (i % CHUNK + 1) * 64]}"
                "\t90\n"
                for i in range(a, b)
            ),
            n,
        )
        timings["copy"] = time.perf_counter() - start
        db.execute("SET session_replication_role = DEFAULT")
        start = time.perf_counter()
        for part in range(1, WIDE.substrings + 1):
            db.execute(
                f"CREATE INDEX {WIDE.table}_s{part} ON {WIDE.table} (space, s{part}) "
                "INCLUDE (hash, id)"
            )
        timings["16 indexes"] = time.perf_counter() - start
        start = time.perf_counter()
        db.execute(f"VACUUM ANALYZE {WIDE.table}")
        timings["vacuum"] = time.perf_counter() - start
    return timings


def _pdq_sizes(url: str, n: int) -> list[list[str]]:
    import psycopg

    rows = []
    with psycopg.connect(url) as db:
        for name, sql in (
            (f"{WIDE.table} heap", f"pg_relation_size('{WIDE.table}')"),
            (f"{WIDE.table} primary key", f"pg_relation_size('{WIDE.table}_pkey')"),
            (
                f"{WIDE.substrings} substring indexes (the hot set)",
                "(SELECT sum(pg_relation_size(c.oid)) FROM pg_class c"
                f" WHERE c.relname LIKE '{WIDE.table}_s%')",
            ),
        ):
            size = int(db.execute(f"SELECT {sql}").fetchone()[0])  # type: ignore[index]
            rows.append([name, f"{size / 2**20:.0f} MiB", f"{size / n:.0f} B"])
    return rows


def _pdq(url: str, server: Any, rng: np.random.Generator) -> tuple[dict[str, float], str]:
    """PDQ in SQL at N_PDQ hashes, beside the in-memory index and a scan: the metrics, and
    the tables to print."""
    values, queries = _data(N_PDQ, rng, 256, PDQ_K)
    index = HashIndex(values, width=256)
    timings = _load_pdq(url, values)
    _restart(server)
    store = PostgresStore.connect(url)
    others = tuple(_int(row) for row in rng.integers(0, 2**64, (7, 4), dtype=np.uint64))
    rows, metrics = [], {}
    for label, more in (("1 query", {}), ("dihedral, 8 queries", {"others": others})):
        first, warm = _passes(store, index, queries, PDQ_K, algorithm="pdq", **more)
        rows.append(
            [
                label,
                "PostgreSQL, m = 16 (16 bits each)",
                *_cells(first["postgres"], warm["postgres"]),
            ]
        )
        rows.append(
            [label, "imghash HashIndex, in memory", *_cells(first["memory"], warm["memory"])]
        )
        if not more:
            rows.append([label, "numpy scan (XOR + popcount)", *_cells([], warm["scan"])])
        key = "dihedral" if more else "one"
        metrics[f"pdq_pg_{key}_p50_ms"] = statistics.median(warm["postgres"]) * 1000
        metrics[f"pdq_memory_{key}_p50_ms"] = statistics.median(warm["memory"]) * 1000
    store.close()
    headers = ["query", "method", "warm p50 ms", "warm p99 ms", "first pass p50", "first pass p99"]
    load = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    sizes = _pdq_sizes(url, N_PDQ)
    report = (
        f"### PDQ search in PostgreSQL at 10^{len(str(N_PDQ)) - 1} hashes, k = {PDQ_K}: "
        f"{len(queries)} queries with planted neighbours (every method found the same "
        f"records)\n\n{table(headers, rows)}\n\nLoading {N_PDQ:,} PDQ hashes: {load}.\n\n"
        + table([f"on disk, {N_PDQ:,} PDQ hashes", "size", "per hash"], sizes)
    )
    return metrics, report


def _cells(first: list[float], warm: list[float]) -> list[str]:
    cells = [f"{v:.2f}" for v in _ms(warm)]
    return cells + ([f"{v:.2f}" for v in _ms(first)] if first else ["", ""])


def run() -> dict[str, float]:
    rng = np.random.default_rng(2027)
    values, queries = _data(N, rng)
    start = time.perf_counter()
    index = HashIndex(values)
    memory_build = time.perf_counter() - start
    rows: dict[tuple[int, int], list[object]] = {}
    metrics: dict[str, float] = {}
    with _server() as server:
        url = server.get_uri()
        timings = _load(url, values)
        for m in (4, 3):
            if m != 4:
                store = PostgresStore.connect(url)
                start = time.perf_counter()
                store.rebuild(m)
                store.executor.run("VACUUM ANALYZE")
                timings[f"rebuild to m = {m}"] = time.perf_counter() - start
                store.close()
            _restart(server)  # empty shared buffers: the first pass starts cold there
            store = PostgresStore.connect(url)
            widths = "/".join(map(str, store.layout.widths))
            for k in KS:
                first, warm = _passes(store, index, queries, k)
                label = f"PostgreSQL, m = {m} ({widths} bits)"
                rows[k, 4 - m] = [k, label, *_cells(first["postgres"], warm["postgres"])]
                metrics[f"pg_m{m}_k{k}_p50_ms"] = statistics.median(warm["postgres"]) * 1000
                if m == 4:
                    memory = _cells(first["memory"], warm["memory"])
                    rows[k, 2] = [k, "imghash HashIndex, in memory", *memory]
                    rows[k, 3] = [k, "numpy scan (XOR + popcount)", *_cells([], warm["scan"])]
                    metrics[f"memory_k{k}_p50_ms"] = statistics.median(warm["memory"]) * 1000
            if m == 4:
                insert_p50, insert_p99, found = _inserts(store, rng)
            store.close()
        sizes = _sizes(url, N)
        pdq_metrics, pdq_report = _pdq(url, server, rng)
    print(
        f"### Search at 10^7 hashes: PostgreSQL against memory, {len(queries)} queries with "
        "planted neighbours (every method found the same records)\n"
    )
    headers = ["k", "method", "warm p50 ms", "warm p99 ms", "first pass p50", "first pass p99"]
    print(table(headers, [rows[key] for key in sorted(rows)]))
    load = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    print(
        f"\nLoading 10^7 records: {load}; the in-memory index builds in {memory_build:.1f} s. "
        "Single inserts into the full table (one conditional INSERT ... ON CONFLICT with "
        f"its hashes, autocommit): p50 {insert_p50:.2f} ms, p99 {insert_p99:.2f} ms; "
        f"{found} of {INSERTS} found by a search right after their commit.\n"
    )
    print(table(["on disk, 10^7 records", "size", "per record"], sizes))
    print("\n" + pdq_report)
    metrics.update(insert_p50_ms=insert_p50, inserts_found=found, **pdq_metrics)
    return metrics
