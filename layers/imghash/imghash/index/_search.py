"""Exact Hamming-radius search over 64-bit hashes: a chunked scan, and multi-index hashing.

Multi-index hashing (Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with
Multi-Index Hashing", CVPR 2012): the 64 bits are cut into four 16-bit substrings,
each with a table from substring value to the hashes that have it. By the pigeonhole
principle a hash within distance k of the query has at least one substring within
k // 4 of the query's, so probing every value in those small Hamming balls finds
every true match; each candidate is then verified against the full 64 bits. Nothing
is approximate: no true match can be missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .._errors import InvalidRequest

__all__ = ["MAX_DISTANCE", "HashIndex", "ball", "check_query"]

#: Largest search radius accepted (DESIGN §8).
MAX_DISTANCE = 16
_CHUNK = 1 << 20
_PARTS = 4
_PART_BITS = 64 // _PARTS
#: From this many hashes on, multi-index tables are built and used.
MIH_THRESHOLD = 50_000

U64 = npt.NDArray[np.uint64]
Positions = npt.NDArray[np.intp]


@lru_cache(maxsize=64)
def ball(radius: int, width: int = _PART_BITS) -> npt.NDArray[np.uint32]:
    """Every ``width``-bit mask with at most ``radius`` bits set (the probes of a substring)."""
    masks = np.arange(1 << width, dtype=np.uint32)
    found = masks[np.bitwise_count(masks) <= radius]
    found.flags.writeable = False  # shared by every caller through the cache
    return found


def check_query(max_distance: int, limit: int | None) -> None:
    """Refuse a radius outside 0..MAX_DISTANCE or a limit below 1, as every search does."""
    if not 0 <= max_distance <= MAX_DISTANCE:
        raise InvalidRequest(f"max_distance={max_distance} is outside 0..{MAX_DISTANCE}")
    if limit is not None and limit < 1:
        raise InvalidRequest(f"limit={limit} must be at least 1")


class _Tables:
    """For each 16-bit substring: the positions sorted by its value, and bucket offsets."""

    def __init__(self, values: U64) -> None:
        position_type = np.int32 if values.size < 2**31 else np.int64
        self.order: list[npt.NDArray[np.signedinteger]] = []
        self.offsets: list[npt.NDArray[np.int64]] = []
        for part in range(_PARTS):
            sub = _substring(values, part)
            self.order.append(np.argsort(sub, kind="stable").astype(position_type))
            counts = np.bincount(sub, minlength=1 << _PART_BITS)
            self.offsets.append(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))

    def candidates(self, query: int, radius: int) -> Positions:
        """Positions with some substring within ``radius`` of the query's (with repeats)."""
        found = []
        probes_of = ball(radius)
        for part in range(_PARTS):
            probes = ((query >> (64 - _PART_BITS * (part + 1))) & 0xFFFF) ^ probes_of
            starts = self.offsets[part][probes]
            lengths = self.offsets[part][probes + 1] - starts
            count = int(lengths.sum())
            if count == 0:
                continue
            ends = np.cumsum(lengths)
            # positions starts[i] .. starts[i] + lengths[i] for every probe, in one gather
            index = np.arange(count, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)
            found.append(self.order[part][index])
        if not found:
            return np.empty(0, dtype=np.intp)
        return np.concatenate(found).astype(np.intp)

    def candidate_count(self, query: int, radius: int) -> int:
        probes_of = ball(radius)
        total = 0
        for part in range(_PARTS):
            probes = ((query >> (64 - _PART_BITS * (part + 1))) & 0xFFFF) ^ probes_of
            total += int((self.offsets[part][probes + 1] - self.offsets[part][probes]).sum())
        return total


def _substring(values: U64, part: int) -> npt.NDArray[np.uint16]:
    shift = np.uint64(64 - _PART_BITS * (part + 1))
    return ((values >> shift) & np.uint64(0xFFFF)).astype(np.uint16)


class HashIndex:
    """Every stored hash within a Hamming distance of a query, nearest first, exactly.

    Small indexes are scanned (XOR and popcount, a million hashes a chunk); from
    :data:`MIH_THRESHOLD` hashes on, multi-index tables answer unless a query's
    candidates would outnumber a quarter of the index, when a scan is cheaper.
    """

    def __init__(self, values: Iterable[int] | U64, *, mih_threshold: int = MIH_THRESHOLD) -> None:
        if isinstance(values, np.ndarray):
            array = np.ascontiguousarray(values, dtype=np.uint64)
        else:
            array = np.fromiter((int(v) & (2**64 - 1) for v in values), dtype=np.uint64)
        self.values: U64 = array
        self._tables = _Tables(array) if array.size >= mih_threshold else None

    def __len__(self) -> int:
        return int(self.values.size)

    def search(
        self, query: int, max_distance: int, limit: int | None = None
    ) -> list[tuple[int, int]]:
        """``(position, distance)`` of every hash within ``max_distance``, nearest first."""
        check_query(max_distance, limit)
        query &= 2**64 - 1
        positions, distances = self._matches(query, max_distance)
        order = np.lexsort((positions, distances))
        if limit is not None:
            order = order[:limit]
        return list(zip(positions[order].tolist(), distances[order].tolist(), strict=True))

    def _matches(self, query: int, k: int) -> tuple[Positions, npt.NDArray[np.uint8]]:
        tables = self._tables
        radius = k // _PARTS
        if tables is not None and tables.candidate_count(query, radius) * 4 < self.values.size:
            candidates = tables.candidates(query, radius)
            distances = np.bitwise_count(self.values[candidates] ^ np.uint64(query))
            keep = distances <= k
            positions, first = np.unique(candidates[keep], return_index=True)
            return positions, distances[keep][first]
        return self.scan(query, k)

    def scan(self, query: int, k: int) -> tuple[Positions, npt.NDArray[np.uint8]]:
        """Brute force, chunk by chunk: the oracle, and the path for small indexes."""
        q = np.uint64(query & (2**64 - 1))
        positions, distances = [], []
        for start in range(0, self.values.size, _CHUNK):
            d = np.bitwise_count(self.values[start : start + _CHUNK] ^ q)
            hits = np.flatnonzero(d <= k)
            positions.append(hits + start)
            distances.append(d[hits])
        if not positions:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.uint8)
        return np.concatenate(positions).astype(np.intp), np.concatenate(distances)
