"""Groups of near-duplicate images among many: ``imghash dupes`` and ``find_duplicates``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._algorithms import ALL
from ._compare import LIKELY_SAME_MAX_DISTANCE, compare
from ._errors import ImghashError, InvalidRequest
from ._folders import HashOptions, expand, hash_many
from ._hashing import HashResult
from ._parallel import default_jobs
from ._profiles import resolve_profile
from ._settings import Settings, get_settings

__all__ = ["DuplicateGroup", "DuplicatePair", "find_duplicates", "group_duplicates"]

#: Largest ``max_distance`` accepted (the index's largest search radius).
_MAX_DISTANCE = 16
#: The algorithms images are grouped by: the seed's three (``all``), whose 64-bit hashes
#: the in-memory index searches.
_GROUPED = tuple(a.name for a in ALL)


@dataclass(frozen=True)
class DuplicatePair:
    """Two images found near-duplicates, with each algorithm's distance between them."""

    first: str
    second: str
    #: Differing bits per algorithm (0..64): ``{"ahash": 1, "dhash": 3, "phash": 2}``.
    distances: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second, "distances": dict(self.distances)}


@dataclass(frozen=True)
class DuplicateGroup:
    """Images that are near-duplicates, directly or through one another.

    ``paths`` is sorted; ``pairs`` holds every pair of the group that matched on its own,
    nearest first, so a group of three where only two pairs match says which two.
    """

    paths: tuple[str, ...]
    pairs: tuple[DuplicatePair, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"group": list(self.paths), "pairs": [pair.to_dict() for pair in self.pairs]}


def group_duplicates(
    hashed: Sequence[tuple[str, HashResult]], *, algorithm: str, max_distance: int | None
) -> list[DuplicateGroup]:
    """Group hashed images (all three algorithms, one profile).

    ``max_distance`` None: two images match when they are likely the same (every
    algorithm within its limit, see :func:`imghash.compare`); a number K: when
    ``algorithm``'s hashes are within K bits. Groups are the connected sets of
    matches, sorted by their first path. A pair matches only on the algorithms that
    decide for it (``Comparison.decided_by``: not a flat image's, nor noise-decided bits).
    """
    from .index import HashIndex  # numpy's search; loaded only when grouping

    limit = LIKELY_SAME_MAX_DISTANCE[algorithm] if max_distance is None else max_distance
    index = HashIndex([result.hashes[algorithm].value for _, result in hashed])
    parent = list(range(len(hashed)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs: list[tuple[int, int, dict[str, int]]] = []
    for i, (_, result) in enumerate(hashed):
        for j, _found in index.search(result.hashes[algorithm].value, limit):
            if j <= i:
                continue
            other = hashed[j][1]
            verdict = compare(result, other)  # reads flatness and unstable bits
            if max_distance is None and not verdict.likely_same:
                continue
            if max_distance is not None and algorithm not in verdict.decided_by:
                continue  # the algorithm's bits are noise on one side
            pairs.append((i, j, {n: c.distance for n, c in verdict.algorithms.items()}))
            parent[root(j)] = root(i)
    members: dict[int, list[int]] = {}
    for i in range(len(hashed)):
        members.setdefault(root(i), []).append(i)
    links: dict[int, list[tuple[int, int, dict[str, int]]]] = {}
    for pair in pairs:
        links.setdefault(root(pair[0]), []).append(pair)
    groups = []
    for top, found in members.items():
        if len(found) < 2:
            continue
        named = sorted(
            (
                DuplicatePair(min(a, b), max(a, b), distances)
                for a, b, distances in ((hashed[i][0], hashed[j][0], d) for i, j, d in links[top])
            ),
            key=lambda p: (p.distances[algorithm], p.first, p.second),
        )
        groups.append(DuplicateGroup(tuple(sorted(hashed[i][0] for i in found)), tuple(named)))
    return sorted(groups, key=lambda g: g.paths)


def find_duplicates(
    folder_or_paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    max_distance: int | None = None,
    algorithm: str = "phash",
    profile: str | None = None,
    fast: bool = False,
    jobs: int | None = None,
    on_error: Callable[[str, ImghashError], None] | None = None,
    settings: Settings | None = None,
) -> list[DuplicateGroup]:
    """The groups of near-duplicate images in a folder (recursively) or among paths.

    The groups ``imghash dupes`` prints, with distances::

        for group in imghash.find_duplicates("photos/"):
            print(group.paths, [(p.first, p.second, p.distances) for p in group.pairs])

    ``max_distance`` None (default): images that are likely the same; K (0..16): within
    K bits on ``algorithm`` (``ahash``, ``dhash`` or ``phash``). ``jobs``: worker
    processes (default one per core; 1 hashes in this process). A file that cannot be
    hashed is left out and passed to ``on_error(path, error)`` when given.
    """
    if algorithm not in _GROUPED:
        raise InvalidRequest(f"unknown algorithm {algorithm!r}; use one of {', '.join(_GROUPED)}")
    if max_distance is not None and not 0 <= max_distance <= _MAX_DISTANCE:
        raise InvalidRequest(f"max_distance={max_distance} is outside 0..{_MAX_DISTANCE}")
    if jobs is not None and jobs < 1:
        raise InvalidRequest(f"jobs={jobs} must be at least 1")
    if isinstance(folder_or_paths, str | os.PathLike):
        folder_or_paths = [folder_or_paths]
    sources = list(expand(folder_or_paths))
    options = HashOptions("all", resolve_profile(profile).name, fast, settings or get_settings())
    hashed = []
    for source, outcome in zip(
        sources, hash_many(sources, options, jobs or default_jobs()), strict=True
    ):
        if isinstance(outcome, ImghashError):
            if on_error is not None:
                on_error(source, outcome)
        else:
            hashed.append((source, outcome))
    return group_duplicates(hashed, algorithm=algorithm, max_distance=max_distance)
