"""Comparing two sets of hashes: distance, similarity and the likely-same rule (DESIGN §3)."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ._algorithms import ALGORITHMS
from ._dihedral import DIHEDRAL, check_dihedral, dihedral_algorithms
from ._errors import InvalidRequest
from ._hashvalue import DEFAULT_WIDTH, Hash

if TYPE_CHECKING:
    from ._hashing import HashResult, Source
    from ._settings import Settings

__all__ = [
    "LIKELY_SAME_MAX_DISTANCE",
    "MAX_UNSTABLE_BITS",
    "MIN_QUALITY",
    "AlgorithmComparison",
    "Comparison",
    "compare",
    "compare_hashes",
    "compare_images",
    "similarity",
]

#: The likely-same rule: every compared algorithm within its distance (the registry's
#: ``max_distance``). For the seed's three, chosen with the robustness benchmark (`make
#: bench`, README): over the 36 corpus photos, ten everyday edits move aHash / dHash /
#: pHash by at most 6 / 7 / 6 bits, while the closest different photos are 10 / 14 / 18
#: bits apart; each limit sits in the middle of that gap, so both sides keep margin.
#: PDQ's is Meta's recommended 31 of 256 (``hashing.pdf``), which the same benchmark checks.
LIKELY_SAME_MAX_DISTANCE: Mapping[str, int] = {a.name: a.max_distance for a in ALGORITHMS.values()}

#: An algorithm whose hash has more unstable bits than this on either side (bits that
#: rounding noise decided: ``HashResult.unstable_bits``) does not take part in the
#: likely-same rule. One near-tie at the median gives exactly two (one bit on each side
#: of the threshold); they move a distance by at most 2 per side, and 6 (the largest
#: distance the everyday edits give) + 2 + 2 stays within pHash's limit of 12. More is
#: a pattern whose low frequencies are exactly zero: its bits say nothing.
MAX_UNSTABLE_BITS = 2

#: An algorithm with a quality score (PDQ) whose score is below this on either side does
#: not take part in the likely-same rule, and the image is ``low_information``: Meta
#: advises discarding PDQ hashes of quality 49 or less (too little structure: flat,
#: nearly flat or tiny images, whose bits are set by noise).
MIN_QUALITY = 50


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
    #: The algorithms whose distances decided ``likely_same``, in order.
    decided_by: tuple[str, ...] = ()
    #: Each side's unstable bits per algorithm (see HashResult.unstable_bits).
    unstable_bits: tuple[Mapping[str, int], Mapping[str, int]] = ({}, {})
    #: Each side's quality scores per algorithm (see HashResult.quality).
    quality: tuple[Mapping[str, int], Mapping[str, int]] = ({}, {})
    #: With dihedral matching: the orientation (one of ``DIHEDRAL``) by which the first
    #: image, turned, matched the second best; the distances of the algorithms that
    #: support it are those of that orientation. None without dihedral matching.
    orientation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The data of ``/v1/compare``: both sides' hashes, per-algorithm figures, verdict."""
        first, second = self.hashes
        data: dict[str, Any] = {
            "hashes": {
                "image1": {name: value.hex() for name, value in first.items()},
                "image2": {name: value.hex() for name, value in second.items()},
            },
            "comparison": {
                name: {"distance": c.distance, "similarity": c.similarity}
                for name, c in self.algorithms.items()
            },
            "likely_same": self.likely_same,
            "decided_by": list(self.decided_by),
            "average_similarity": self.average_similarity,
            "low_information": {
                "image1": self.low_information[0],
                "image2": self.low_information[1],
            },
            "unstable_bits": {
                "image1": dict(self.unstable_bits[0]),
                "image2": dict(self.unstable_bits[1]),
            },
        }
        if any(self.quality):  # only when an algorithm with a quality score was compared
            data["quality"] = {"image1": dict(self.quality[0]), "image2": dict(self.quality[1])}
        if self.orientation is not None:
            data["orientation"] = self.orientation
        return data


def compare_hashes(
    first: Mapping[str, Hash],
    second: Mapping[str, Hash],
    low_information: tuple[bool, bool] = (False, False),
    *,
    flat: tuple[bool, bool] | None = None,
    unstable_bits: tuple[Mapping[str, int], Mapping[str, int]] = ({}, {}),
    quality: tuple[Mapping[str, int], Mapping[str, int]] = ({}, {}),
) -> Comparison:
    """Compare the algorithms both sides have.

    ``likely_same`` holds when each deciding algorithm is within
    :data:`LIKELY_SAME_MAX_DISTANCE`, and at least one decides. An algorithm decides
    unless either side has more than :data:`MAX_UNSTABLE_BITS` unstable bits of it, or
    a quality score of it under :data:`MIN_QUALITY`; none does for a ``flat`` image
    (default: ``low_information``), whose bits are noise that matches every other flat
    image.
    """
    return _compared(first, second, low_information, flat, unstable_bits, quality)


def _compared(
    first: Mapping[str, Hash],
    second: Mapping[str, Hash],
    low_information: tuple[bool, bool],
    flat: tuple[bool, bool] | None,
    unstable_bits: tuple[Mapping[str, int], Mapping[str, int]],
    quality: tuple[Mapping[str, int], Mapping[str, int]],
    deciding: Collection[str] | None = None,
) -> Comparison:
    """:func:`compare_hashes`, where only the algorithms in ``deciding`` may decide."""
    names = [name for name in first if name in second]
    if not names:
        raise InvalidRequest("the two sides share no algorithm to compare")
    per = {}
    for name in names:
        distance = first[name].distance(second[name])
        per[name] = AlgorithmComparison(distance, similarity(distance, len(first[name])))
    mean = sum(c.similarity for c in per.values()) / len(per)
    deciders = tuple(
        name
        for name in names
        if not any(low_information if flat is None else flat)
        and (deciding is None or name in deciding)
        and all(side.get(name, 0) <= MAX_UNSTABLE_BITS for side in unstable_bits)
        and all(side.get(name, MIN_QUALITY) >= MIN_QUALITY for side in quality)
    )
    likely = bool(deciders) and all(
        per[name].distance <= LIKELY_SAME_MAX_DISTANCE.get(name, 0) for name in deciders
    )
    reported = tuple({n: side[n] for n in names if n in side} for side in unstable_bits)
    scored = tuple({n: side[n] for n in names if n in side} for side in quality)
    return Comparison(
        (first, second),
        per,
        math.floor(mean + 0.5),
        likely,
        low_information,
        deciders,
        (reported[0], reported[1]),
        (scored[0], scored[1]),
    )


def compare(first: HashResult, second: HashResult, *, dihedral: bool = False) -> Comparison:
    """Compare two hashed images (same profile) with :func:`compare_hashes`, signals included.

    ``dihedral``: match ``second`` against ``first`` turned each way (``first`` must be
    hashed with ``dihedral=True``); see :func:`compare_images`.
    """
    if first.profile != second.profile:
        raise InvalidRequest(
            f"cannot compare hashes of profile {first.profile!r} with {second.profile!r}"
        )
    low_information = (first.low_information, second.low_information)
    flat = (first.flat, second.flat)
    quality = (first.quality, second.quality)
    if not dihedral:
        unstable = (first.unstable_bits, second.unstable_bits)
        return _compared(first.hashes, second.hashes, low_information, flat, unstable, quality)
    shared = [name for name in first.hashes if name in second.hashes]
    check_dihedral(shared)
    turning = [name for name in shared if name in dihedral_algorithms()]
    if not all(name in first.dihedral for name in turning):
        raise InvalidRequest("dihedral matching needs the first image hashed with dihedral=True")
    best: tuple[float, int, Comparison] | None = None
    for k, _orientation in enumerate(DIHEDRAL):
        hashes = {**first.hashes, **{n: first.dihedral[n][k] for n in turning}}
        unstable_k = {**first.unstable_bits}
        for name, counts in first.dihedral_unstable_bits.items():
            unstable_k[name] = counts[k]
        found = _compared(
            hashes,
            second.hashes,
            low_information,
            flat,
            (unstable_k, second.unstable_bits),
            quality,
            deciding=turning,
        )
        # The orientation the deciding algorithms agree on best, as a share of their bits.
        deciders = found.decided_by or tuple(turning)
        score = sum(found.algorithms[n].distance / len(hashes[n]) for n in deciders)
        if best is None or (score, k) < best[:2]:
            best = (score, k, replace(found, hashes=(first.hashes, second.hashes)))
    assert best is not None  # DIHEDRAL is not empty
    return replace(best[2], orientation=DIHEDRAL[best[1]])


def compare_images(
    first: Source,
    second: Source,
    *,
    algorithms: str | Sequence[str] | None = None,
    profile: str | None = None,
    fast: bool = False,
    settings: Settings | None = None,
    dihedral: bool = False,
) -> Comparison:
    """Hash two images (any source ``hash_image`` takes) the same way and compare them.

    ``dihedral``: match the second image against the first turned or flipped each of
    the eight ways (``imghash.DIHEDRAL``), and report the orientation that matched
    best (``Comparison.orientation``). Only the algorithms that can turn (pHash, PDQ)
    decide ``likely_same`` then; aHash and dHash are compared as the images are.
    """
    from ._hashing import hash_image

    options: dict[str, Any] = {
        "algorithms": algorithms,
        "profile": profile,
        "fast": fast,
        "settings": settings,
    }
    one = hash_image(first, dihedral=dihedral, **options)
    return compare(one, hash_image(second, **options), dihedral=dihedral)
