"""Search at 10^6 and 10^7 hashes, k = 10: ours against a numpy scan and FAISS (DESIGN §9).

Random 64-bit hashes, with neighbours planted around each query at distances 0..10 so
that every query has true matches; all three answer the same sets (checked here).
FAISS runs on one thread, as ours do.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import table

from imghash.index import HashIndex

K = 10
QUERIES = 100
PLANTED = 5


def _data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    values = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    queries = rng.integers(0, 2**64, QUERIES, dtype=np.uint64, endpoint=False)
    slots = rng.choice(n, QUERIES * PLANTED, replace=False)
    for i, q in enumerate(queries):
        for j in range(PLANTED):
            flips = rng.choice(64, int(rng.integers(0, K + 1)), replace=False)
            mask = np.uint64(sum(1 << int(b) for b in flips))
            values[slots[i * PLANTED + j]] = q ^ mask
    return values, queries


def _timed(run: object, queries: np.ndarray) -> tuple[list[float], list[set[int]]]:
    times, answers = [], []
    for q in queries:
        start = time.perf_counter()
        found = run(int(q))  # type: ignore[operator]
        times.append(time.perf_counter() - start)
        answers.append(found)
    return times, answers


def _ms(times: list[float]) -> tuple[str, str]:
    ordered = sorted(times)
    return (
        f"{statistics.median(ordered) * 1000:.2f}",
        f"{ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000:.2f}",
    )


def _one(n: int, rng: np.random.Generator) -> tuple[list[list[str]], dict[str, float]]:
    import faiss

    values, queries = _data(n, rng)
    start = time.perf_counter()
    index = HashIndex(values)
    build = time.perf_counter() - start
    tables = index._tables
    memory = values.nbytes + (
        0 if tables is None else sum(a.nbytes for a in [*tables.order, *tables.offsets])
    )
    ours, ours_sets = _timed(lambda q: {p for p, _ in index.search(q, K)}, queries)
    scan, scan_sets = _timed(lambda q: set(index.scan(q, K)[0].tolist()), queries[:30])

    start = time.perf_counter()
    flat = faiss.IndexBinaryFlat(64)
    flat.add(values.view(np.uint8).reshape(n, 8))
    faiss_build = time.perf_counter() - start

    def faiss_search(q: int) -> set[int]:
        x = np.array([q], dtype=np.uint64).view(np.uint8).reshape(1, 8)
        _, _, ids = flat.range_search(x, K + 1)  # FAISS keeps distances < radius
        return set(ids.tolist())

    fa, fa_sets = _timed(faiss_search, queries[:30])
    assert ours_sets[:30] == scan_sets == fa_sets, "the three disagree"
    assert all(len(s) >= PLANTED for s in ours_sets)
    label = f"10^{len(str(n)) - 1}"
    flat_mb = f"{values.nbytes / 2**20:.0f} MB"
    rows = [
        [
            label,
            "imghash HashIndex (multi-index)",
            *_ms(ours),
            f"{build:.2f} s",
            f"{memory / 2**20:.0f} MB",
        ],
        [label, "numpy scan (XOR + popcount)", *_ms(scan), "none", flat_mb],
        [label, "FAISS IndexBinaryFlat, 1 thread", *_ms(fa), f"{faiss_build:.2f} s", flat_mb],
    ]
    metrics = {
        f"p50_ms_{label}": statistics.median(ours) * 1000,
        f"faiss_p50_ms_{label}": statistics.median(fa) * 1000,
    }
    return rows, metrics


def run() -> dict[str, float]:
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(2026)
    rows: list[list[str]] = []
    found: dict[str, float] = {}
    for n in (10**6, 10**7):
        more, metrics = _one(n, rng)
        rows += more
        found.update(metrics)
    print(f"### Search, k = {K}, {QUERIES} queries with {PLANTED} planted neighbours each\n")
    print(table(["hashes", "method", "p50 ms", "p99 ms", "build", "memory"], rows))
    return found


def cli_throughput(corpus: Path) -> float:
    photos = sorted((corpus / "photos").glob("*.jpg"))
    imghash = Path(sys.executable).with_name("imghash")
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run(
            [str(imghash), "index", "--db", f"{folder}/i.db", str(corpus / "photos")],
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - start
    rate = len(photos) / seconds
    print(
        f"\n`imghash index` on the {len(photos)} corpus photos (6 of them 3-12 MP), one "
        f"process from start to end: {seconds:.1f} s, {rate:.1f} images a second."
    )
    return rate
