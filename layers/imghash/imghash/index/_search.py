"""Exact Hamming-radius search over 64- and 256-bit hashes: a chunked scan, and
multi-index hashing.

Multi-index hashing (Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with
Multi-Index Hashing", CVPR 2012): a hash is cut into 16-bit substrings, four of a
64-bit hash and sixteen of PDQ's 256 bits, each with a table from substring value to
the hashes that have it. By the pigeonhole principle a hash within distance k of the
query has at least one of its m substrings within k // m of the query's, so probing
every value in those small Hamming balls finds every true match; each candidate is
then verified on all its bits. At PDQ's matching threshold of 31, sixteen substrings
probe at radius 1 (17 values each): the design of Meta's HMA 1.0. Nothing is
approximate: no true match can be missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .._algorithms import ALGORITHMS
from .._errors import InvalidRequest
from .._hashvalue import DEFAULT_WIDTH, WIDTHS, Hash

__all__ = [
    "MAX_DISTANCE",
    "HashIndex",
    "ball",
    "check_query",
    "check_search",
    "distance_limit",
]

_CHUNK = 1 << 20
#: Rows of wide hashes a scan reads at a time: their query tile stays in the CPU's cache.
_WIDE_CHUNK = 1 << 16
_WORD = 64
_PART_BITS = 16
_PARTS_PER_WORD = _WORD // _PART_BITS
_WORD_MASK = (1 << _WORD) - 1
_PART_MASK = (1 << _PART_BITS) - 1
#: From this many hashes on, multi-index tables are built and used.
MIH_THRESHOLD = 50_000

U64 = npt.NDArray[np.uint64]
Positions = npt.NDArray[np.intp]
Distances = npt.NDArray[np.unsignedinteger]


def distance_limit(width: int) -> int:
    """The largest radius a search of ``width``-bit hashes accepts: a quarter of the bits,
    16 of 64 (DESIGN §8) and 64 of PDQ's 256 (twice Meta's matching threshold of 31)."""
    return width // 4


#: Largest search radius of the 64-bit hashes (DESIGN §8).
MAX_DISTANCE = distance_limit(DEFAULT_WIDTH)


@lru_cache(maxsize=64)
def ball(radius: int, width: int = _PART_BITS) -> npt.NDArray[np.uint32]:
    """Every ``width``-bit mask with at most ``radius`` bits set (the probes of a substring)."""
    masks = np.arange(1 << width, dtype=np.uint32)
    found = masks[np.bitwise_count(masks) <= radius]
    found.flags.writeable = False  # shared by every caller through the cache
    return found


def check_query(max_distance: int, limit: int | None, width: int = DEFAULT_WIDTH) -> None:
    """Refuse a radius outside 0..distance_limit(width) or a limit below 1, as every
    search does."""
    high = distance_limit(width)
    if not 0 <= max_distance <= high:
        raise InvalidRequest(
            f"max_distance={max_distance} is outside 0..{high} for {width}-bit hashes"
        )
    if limit is not None and limit < 1:
        raise InvalidRequest(f"limit={limit} must be at least 1")


def check_search(
    queries: Sequence[Hash], algorithm: str, max_distance: int, limit: int | None
) -> int:
    """Refuse an unknown algorithm, a query hash of another width than its hashes, a
    radius or limit out of range; the width searched, when all is well."""
    if algorithm not in ALGORITHMS:
        raise InvalidRequest(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    if not queries:
        raise InvalidRequest("a search needs a query hash")
    width = ALGORITHMS[algorithm].bits
    for query in queries:
        if len(query) != width:
            raise InvalidRequest(
                f"a {algorithm} hash is {width} bits ({width // 4} hex digits), "
                f"not {len(query)} ({len(query) // 4} digits)"
            )
    check_query(max_distance, limit, width)
    return width


def _words(values: Iterable[int] | U64, width: int) -> U64:
    """The hashes as an (n, width / 64) array: row i holds hash i's 64-bit words, most
    significant first, so that a candidate's words are read together (one cache line).

    An array is given as n values (64 bits) or as n rows of width / 64 words.
    """
    count = width // _WORD
    if isinstance(values, np.ndarray):
        return np.ascontiguousarray(values, dtype=np.uint64).reshape(-1, count)
    mask = (1 << width) - 1  # signed forms (int64 from a database) wrap as they should
    if count == 1:
        flat = np.fromiter((int(v) & mask for v in values), dtype=np.uint64)
        return flat.reshape(-1, 1)
    raw = b"".join((int(v) & mask).to_bytes(width // 8, "big") for v in values)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, count)


def _tiled(query: int, width: int, rows: int) -> U64:
    """The query's words, repeated ``rows`` times when there are several (a hash of one
    word is XORed as a scalar)."""
    count = width // _WORD
    words = [(query >> (_WORD * (count - 1 - w))) & _WORD_MASK for w in range(count)]
    return np.tile(np.array(words, dtype=np.uint64), rows if count > 1 else 1)


#: Four per-word counts of at most 64 each, read as one uint32: a multiplication sums its
#: bytes into the top byte; only a sum of 256 (every bit differs) wraps, to 0.
_SUM_BYTES = np.uint32(0x01010101)
_ALL_DIFFER = np.uint32(0x40404040)


def _near(rows: U64, tiled: U64, k: int) -> tuple[Positions, Distances]:
    """Which of ``rows`` (one hash each) are within ``k`` of a query whose words ``tiled``
    repeats at least ``len(rows)`` times (the XOR runs over contiguous words), and how far."""
    flat = rows.reshape(-1)
    if rows.shape[1] == 1:
        counts = np.bitwise_count(flat ^ tiled[0])  # (one word: no tile to read)
        hits = np.flatnonzero(counts <= k)
        return hits, counts[hits]
    packed = np.bitwise_count(flat ^ tiled[: flat.size]).view(np.uint32)
    found = np.right_shift(packed * _SUM_BYTES, np.uint32(24))
    hits = np.flatnonzero(found <= k)
    hits = hits[packed[hits] != _ALL_DIFFER]  # 256, wrapped to 0: far, not near
    return hits, found[hits].astype(np.uint16)


class _Tables:
    """For each 16-bit substring (row p): the positions sorted by its value, and the
    offsets of each value's bucket in that order."""

    def __init__(self, words: U64) -> None:
        size = words.shape[0]
        self.parts = words.shape[1] * _PARTS_PER_WORD
        self.width = words.shape[1] * _WORD
        position_type = np.int32 if size < 2**31 else np.int64
        self.order = np.empty((self.parts, size), dtype=position_type)
        self.offsets = np.zeros((self.parts, (1 << _PART_BITS) + 1), dtype=np.int64)
        for part in range(self.parts):
            word, place = divmod(part, _PARTS_PER_WORD)
            shift = np.uint64(_WORD - _PART_BITS * (place + 1))
            sub = ((words[:, word] >> shift) & np.uint64(_PART_MASK)).astype(np.uint16)
            self.order[part] = np.argsort(sub, kind="stable")
            np.cumsum(np.bincount(sub, minlength=1 << _PART_BITS), out=self.offsets[part, 1:])

    def _probes(self, query: int, radius: int) -> npt.NDArray[np.int64]:
        """Row p: every value within ``radius`` bits of the query's substring p."""
        mine = np.array(
            [
                (query >> (self.width - _PART_BITS * (part + 1))) & _PART_MASK
                for part in range(self.parts)
            ],
            dtype=np.int64,
        )
        return mine[:, None] ^ ball(radius).astype(np.int64)[None, :]

    def _buckets(
        self, query: int, radius: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Where each probed bucket starts in the flattened order, and its length."""
        probes = self._probes(query, radius)
        rows = np.arange(self.parts)[:, None]
        starts = self.offsets[rows, probes]
        lengths = self.offsets[rows, probes + 1] - starts
        return (starts + rows * self.order.shape[1]).ravel(), lengths.ravel()

    def candidates(self, query: int, radius: int) -> Positions:
        """Positions with some substring within ``radius`` of the query's (with repeats)."""
        starts, lengths = self._buckets(query, radius)
        count = int(lengths.sum())
        if count == 0:
            return np.empty(0, dtype=np.intp)
        ends = np.cumsum(lengths)
        # positions starts[i] .. starts[i] + lengths[i] of every bucket, in one gather
        index = np.arange(count, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)
        found: Positions = self.order.ravel()[index].astype(np.intp)
        return found

    def candidate_count(self, query: int, radius: int) -> int:
        return int(self._buckets(query, radius)[1].sum())


class HashIndex:
    """Every stored hash within a Hamming distance of a query, nearest first, exactly.

    Hashes are 64 bits (aHash, dHash, pHash: radius 0..16) or 256 (PDQ: 0..64), one
    width an index. Small indexes are scanned (XOR and popcount, a million hashes a
    chunk); from :data:`MIH_THRESHOLD` hashes on, multi-index tables answer unless a
    query's candidates would outnumber a quarter of the index, when a scan is cheaper.
    """

    def __init__(
        self,
        values: Iterable[int] | U64,
        *,
        width: int = DEFAULT_WIDTH,
        mih_threshold: int = MIH_THRESHOLD,
    ) -> None:
        if width not in WIDTHS:
            raise InvalidRequest(f"a hash is 64 or 256 bits wide, not {width}")
        self.width = width
        self.words: U64 = _words(values, width)
        size = len(self.words)
        self._tables = _Tables(self.words) if size and size >= mih_threshold else None

    def __len__(self) -> int:
        return len(self.words)

    def search(
        self, query: int, max_distance: int, limit: int | None = None
    ) -> list[tuple[int, int]]:
        """``(position, distance)`` of every hash within ``max_distance``, nearest first."""
        return [(p, d) for p, d, _ in self.search_many([query], max_distance, limit)]

    def search_many(
        self, queries: Sequence[int], max_distance: int, limit: int | None = None
    ) -> list[tuple[int, int, int]]:
        """``(position, distance, which)`` of every hash within ``max_distance`` of some
        query, at its nearest (``queries[which]``; ties go to the first such query),
        nearest first, ties by position.

        Exact as each query's search is: a hash is within the radius of the set of
        queries exactly when it is within it of one of them (a dihedral search's eight).
        """
        check_query(max_distance, limit, self.width)
        mask = (1 << self.width) - 1
        found = [self._matches(query & mask, max_distance) for query in queries]
        positions = np.concatenate([p for p, _ in found] + [np.empty(0, np.intp)])
        distances = np.concatenate([d for _, d in found] + [np.empty(0, np.uint8)])
        which = np.repeat(np.arange(len(found)), [len(p) for p, _ in found])
        if len(found) > 1:  # a hash near several queries: keep its nearest
            nearest = np.lexsort((which, distances, positions))
            positions, first = np.unique(positions[nearest], return_index=True)
            distances, which = distances[nearest][first], which[nearest][first]
        order = np.lexsort((positions, distances))
        if limit is not None:
            order = order[:limit]
        return list(
            zip(
                positions[order].tolist(),
                distances[order].tolist(),
                which[order].tolist(),
                strict=True,
            )
        )

    def _matches(self, query: int, k: int) -> tuple[Positions, Distances]:
        tables = self._tables
        if tables is not None and tables.candidate_count(query, self._radius(k)) * 4 < len(self):
            return self.probe(query, k)
        return self.scan(query, k)

    def _radius(self, k: int) -> int:
        return k // (self.width // _PART_BITS)

    def probe(self, query: int, k: int) -> tuple[Positions, Distances]:
        """Multi-index hashing alone, by position (an index of at least ``mih_threshold``
        hashes): what :meth:`search` uses when the probed buckets are small."""
        if self._tables is None:
            raise ValueError("this index is scanned: it has no multi-index tables")
        candidates = self._tables.candidates(query, self._radius(k))
        rows = np.take(self.words, candidates, axis=0)
        hits, distances = _near(rows, _tiled(query, self.width, len(rows)), k)
        positions, first = np.unique(candidates[hits], return_index=True)
        return positions, distances[first]

    def scan(self, query: int, k: int) -> tuple[Positions, Distances]:
        """Brute force, chunk by chunk: the oracle, and the path for small indexes."""
        words = self.words.shape[1]
        chunk = _CHUNK if words == 1 else _WIDE_CHUNK
        tiled = _tiled(query & ((1 << self.width) - 1), self.width, chunk)
        positions, distances = [], []
        for start in range(0, len(self), chunk):
            hits, found = _near(self.words[start : start + chunk], tiled, k)
            positions.append(hits + start)
            distances.append(found)
        if not positions:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.uint8)
        return np.concatenate(positions).astype(np.intp), np.concatenate(distances)
