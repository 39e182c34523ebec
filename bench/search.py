"""Search at 10^6 and 10^7 hashes: ours against a numpy scan and FAISS (DESIGN §9), for
the 64-bit hashes at k = 10 and PDQ's 256 bits at Meta's threshold, k = 31.

Random hashes, with neighbours planted around each query at distances 0..k so that
every query has true matches; all three answer the same sets (checked here). FAISS
runs on one thread, as ours do. For PDQ, a dihedral search too: eight queries at once
(the query and seven unrelated hashes, as an image's eight orientations are).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from common import table

from imghash.index import HashIndex

K = 10
PDQ_K = 31
QUERIES = 100
PLANTED = 5
#: Queries also run on the numpy scan and FAISS (both take tens of ms at 10^7).
CHECKED = 30


def _data(
    n: int, rng: np.random.Generator, width: int = 64, k: int = K
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random hashes and QUERIES queries, PLANTED neighbours of each planted within
    ``k``: n values (64 bits) or n rows of width / 64 words, most significant first."""
    words = width // 64
    shape = (n,) if words == 1 else (n, words)
    values = rng.integers(0, 2**64, shape, dtype=np.uint64, endpoint=False)
    queries = rng.integers(0, 2**64, (QUERIES, *shape[1:]), dtype=np.uint64, endpoint=False)
    slots = rng.choice(n, QUERIES * PLANTED, replace=False)
    for i, q in enumerate(queries):
        for j in range(PLANTED):
            mask = np.zeros(words, dtype=np.uint64)
            for bit in rng.choice(width, int(rng.integers(0, k + 1)), replace=False).tolist():
                mask[bit // 64] ^= np.uint64(1 << (63 - bit % 64))
            values[slots[i * PLANTED + j]] = q ^ (mask[0] if words == 1 else mask)
    return values, queries


def _int(row: np.ndarray) -> int:
    """A hash from its 64-bit words, most significant first."""
    return int.from_bytes(np.atleast_1d(row).astype(">u8").tobytes(), "big")


def _timed(
    run: Callable[[int], set[int]], queries: list[int]
) -> tuple[list[float], list[set[int]]]:
    times, answers = [], []
    for q in queries:
        start = time.perf_counter()
        found = run(q)
        times.append(time.perf_counter() - start)
        answers.append(found)
    return times, answers


def _ms(times: list[float]) -> tuple[str, str]:
    ordered = sorted(times)
    return (
        f"{statistics.median(ordered) * 1000:.2f}",
        f"{ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000:.2f}",
    )


def _one(
    n: int, rng: np.random.Generator, width: int, k: int
) -> tuple[list[list[str]], dict[str, float]]:
    import faiss

    values, raw = _data(n, rng, width, k)
    queries = [_int(q) for q in raw]
    start = time.perf_counter()
    index = HashIndex(values, width=width)
    build = time.perf_counter() - start
    tables = index._tables
    memory = index.words.nbytes + (
        0 if tables is None else tables.order.nbytes + tables.offsets.nbytes
    )
    ours, ours_sets = _timed(lambda q: {p for p, _ in index.search(q, k)}, queries)
    scan, scan_sets = _timed(lambda q: set(index.scan(q, k)[0].tolist()), queries[:CHECKED])

    start = time.perf_counter()
    flat = faiss.IndexBinaryFlat(width)
    flat.add(np.ascontiguousarray(values).view(np.uint8).reshape(n, width // 8))
    faiss_build = time.perf_counter() - start

    def faiss_search(q: int) -> set[int]:
        words = np.array(
            [(q >> (64 * w)) & (2**64 - 1) for w in reversed(range(width // 64))], dtype=np.uint64
        )
        _, _, ids = flat.range_search(words.view(np.uint8).reshape(1, width // 8), k + 1)
        return set(ids.tolist())  # FAISS keeps distances < radius

    fa, fa_sets = _timed(faiss_search, queries[:CHECKED])
    assert ours_sets[:CHECKED] == scan_sets == fa_sets, "the three disagree"
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
    prefix = "" if width == 64 else "pdq_"
    metrics = {
        f"{prefix}p50_ms_{label}": statistics.median(ours) * 1000,
        f"{prefix}faiss_p50_ms_{label}": statistics.median(fa) * 1000,
        f"{prefix}scan_p50_ms_{label}": statistics.median(scan) * 1000,
    }
    if width != 64:  # a dihedral search: the query and seven unrelated hashes, at once
        others = [_int(row) for row in rng.integers(0, 2**64, (7, width // 64), dtype=np.uint64)]
        eight, eight_sets = _timed(
            lambda q: {p for p, _, _ in index.search_many([q, *others], k)}, queries
        )
        union: set[int] = set().union(*(index.scan(o, k)[0].tolist() for o in others))
        assert all(s == found | union for s, found in zip(eight_sets, ours_sets, strict=True))
        rows.insert(1, [label, "imghash HashIndex, dihedral (8 queries)", *_ms(eight), "", ""])
        metrics[f"{prefix}dihedral_p50_ms_{label}"] = statistics.median(eight) * 1000
    return rows, metrics


def run() -> dict[str, float]:
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(2026)
    found: dict[str, float] = {}
    for width, k, title in (
        (64, K, f"### Search, k = {K}"),
        (256, PDQ_K, f"### PDQ search (256 bits), k = {PDQ_K}"),
    ):
        rows: list[list[str]] = []
        for n in (10**6, 10**7):
            more, metrics = _one(n, rng, width, k)
            rows += more
            found.update(metrics)
        print(f"{title}, {QUERIES} queries with {PLANTED} planted neighbours each\n")
        print(table(["hashes", "method", "p50 ms", "p99 ms", "build", "memory"], rows))
        print()
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
