"""Comparing two sets of hashes: distance, similarity and the likely-same rule (DESIGN §3)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import InvalidRequest
from ._hashvalue import DEFAULT_WIDTH, Hash

if TYPE_CHECKING:
    from ._hashing import HashResult, Source
    from ._settings import Settings

__all__ = [
    "LIKELY_SAME_MAX_DISTANCE",
    "AlgorithmComparison",
    "Comparison",
    "compare",
    "compare_hashes",
    "compare_images",
    "similarity",
]

#: The likely-same rule: every compared algorithm within its distance.
#: Chosen with the robustness benchmark (`make bench`, README): over the 36
#: corpus photos, ten everyday edits move aHash / dHash / pHash by at most
#: 6 / 7 / 6 bits, while the closest different photos are 10 / 14 / 18 bits
#: apart; each limit sits in the middle of that gap, so both sides keep margin.
LIKELY_SAME_MAX_DISTANCE: Mapping[str, int] = {"ahash": 8, "dhash": 10, "phash": 12}


def similarity(distance: int, bits: int = DEFAULT_WIDTH) -> int:
    """0 to 100: ``floor(100 * (1 - distance / bits) + 0.5)`` (JavaScript's Math.round)."""
    return math.floor(100 * (1 - distance / bits) + 0.5)


@dataclass(frozen=True)
class AlgorithmComparison:
    """Distance (differing bits) and similarity (0 to 100) for one algorithm."""

    distance: int
    similarity: int


@dataclass(frozen=True)
class Comparison:
    """How alike two images are, per algorithm and overall."""

    #: The hashes of each side, by algorithm.
    hashes: tuple[Mapping[str, Hash], Mapping[str, Hash]]
    algorithms: Mapping[str, AlgorithmComparison]
    average_similarity: int
    likely_same: bool
    #: Whether each side is too flat to hash meaningfully (see HashResult.low_information).
    low_information: tuple[bool, bool] = (False, False)

    def to_dict(self) -> dict[str, Any]:
        """The data of ``/v1/compare``: both sides' hashes, per-algorithm figures, verdict."""
        first, second = self.hashes
        return {
            "hashes": {
                "image1": {name: value.hex() for name, value in first.items()},
                "image2": {name: value.hex() for name, value in second.items()},
            },
            "comparison": {
                name: {"distance": c.distance, "similarity": c.similarity}
                for name, c in self.algorithms.items()
            },
            "likely_same": self.likely_same,
            "average_similarity": self.average_similarity,
            "low_information": {
                "image1": self.low_information[0],
                "image2": self.low_information[1],
            },
        }


def compare_hashes(
    first: Mapping[str, Hash],
    second: Mapping[str, Hash],
    low_information: tuple[bool, bool] = (False, False),
) -> Comparison:
    """Compare the algorithms both sides have.

    ``likely_same`` holds when each compared algorithm is within
    :data:`LIKELY_SAME_MAX_DISTANCE`; it is never claimed for a flat image,
    whose bits are noise that matches every other flat image.
    """
    names = [name for name in first if name in second]
    if not names:
        raise InvalidRequest("the two sides share no algorithm to compare")
    per = {}
    for name in names:
        distance = first[name].distance(second[name])
        per[name] = AlgorithmComparison(distance, similarity(distance, len(first[name])))
    mean = sum(c.similarity for c in per.values()) / len(per)
    likely = not any(low_information) and all(
        per[name].distance <= LIKELY_SAME_MAX_DISTANCE.get(name, 0) for name in names
    )
    return Comparison((first, second), per, math.floor(mean + 0.5), likely, low_information)


def compare(first: HashResult, second: HashResult) -> Comparison:
    """Compare two hashed images (same profile) with :func:`compare_hashes`."""
    if first.profile != second.profile:
        raise InvalidRequest(
            f"cannot compare hashes of profile {first.profile!r} with {second.profile!r}"
        )
    return compare_hashes(
        first.hashes, second.hashes, (first.low_information, second.low_information)
    )


def compare_images(
    first: Source,
    second: Source,
    *,
    algorithms: str | Sequence[str] | None = None,
    profile: str | None = None,
    fast: bool = False,
    settings: Settings | None = None,
) -> Comparison:
    """Hash two images (any source ``hash_image`` takes) the same way and compare them."""
    from ._hashing import hash_image

    options: dict[str, Any] = {
        "algorithms": algorithms,
        "profile": profile,
        "fast": fast,
        "settings": settings,
    }
    return compare(hash_image(first, **options), hash_image(second, **options))
