"""What a search looks up, read the same way by ``/v1/search`` and ``imghash search``:
the algorithm (any of the registry), the radius its width allows, and the query's hashes,
from a hex hash or from an image (its eight turned hashes, with dihedral matching).

Light on purpose (no numpy at import): the API's description reads the ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._algorithms import ALGORITHMS, Algorithm
from ._compare import MIN_QUALITY
from ._dihedral import DIHEDRAL, dihedral_algorithms
from ._errors import InvalidRequest
from ._hashvalue import Hash

if TYPE_CHECKING:
    from ._hashing import HashResult

__all__ = [
    "DEFAULT_ALGORITHM",
    "SearchQuery",
    "check_dihedral_search",
    "hash_query",
    "image_query",
    "radius_limit",
    "search_algorithm",
    "search_radius",
]

DEFAULT_ALGORITHM = "phash"


def radius_limit(algorithm: Algorithm) -> int:
    """The largest radius a search of ``algorithm`` accepts: a quarter of its bits, 16 of
    64 and 64 of PDQ's 256 (the index's ``distance_limit``, which imports numpy)."""
    return algorithm.bits // 4


def search_algorithm(name: str | None) -> Algorithm:
    """The algorithm a search compares (one of the registry; none given: pHash)."""
    chosen = (name or "").strip().lower() or DEFAULT_ALGORITHM
    if chosen not in ALGORITHMS:
        raise InvalidRequest(
            f"unknown algorithm {chosen!r} for search; use one of {', '.join(ALGORITHMS)}"
        )
    return ALGORITHMS[chosen]


def search_radius(algorithm: Algorithm, given: int | None) -> int:
    """``given``, checked against the algorithm's width, else its likely-same limit."""
    if given is None:
        return algorithm.max_distance
    high = radius_limit(algorithm)
    if not 0 <= given <= high:
        raise InvalidRequest(
            f"max_distance={given} is outside 0..{high} for {algorithm.name} "
            f"({algorithm.bits}-bit hashes)"
        )
    return given


def check_dihedral_search(algorithm: Algorithm, *, by_hash: bool) -> None:
    """Refuse dihedral matching for a hash query or an algorithm that cannot turn."""
    if by_hash:
        raise InvalidRequest(
            "dihedral search needs an image, not a hash: the turned hashes come from the "
            "image's DCT, not from a hash's bits"
        )
    if not algorithm.dihedral:
        raise InvalidRequest(
            f"dihedral search needs {' or '.join(dihedral_algorithms())}, not {algorithm.name}"
        )


@dataclass(frozen=True)
class SearchQuery:
    """A search's query: one hash, or the eight turned hashes of an image by orientation
    name; and what the answer's echo of it says besides the algorithm and radius."""

    hashes: Hash | dict[str, Hash]
    said: dict[str, object] = field(default_factory=dict)

    @property
    def hash(self) -> Hash:
        """The query as given (with dihedral matching, the image's own orientation)."""
        return self.hashes if isinstance(self.hashes, Hash) else self.hashes[DIHEDRAL[0]]

    @property
    def dihedral(self) -> bool:
        return not isinstance(self.hashes, Hash)

    def echo(self) -> dict[str, object]:
        """``hash``, then ``dihedral`` when on, then the query image's signals."""
        return {
            "hash": self.hash.hex(),
            **({"dihedral": True} if self.dihedral else {}),
            **self.said,
        }


def hash_query(text: str, algorithm: Algorithm) -> Hash:
    """A hex hash of ``algorithm``'s width (16 or 64 digits; ``0x`` allowed)."""
    digits = algorithm.bits // 4
    bare = text.strip().lower().removeprefix("0x")
    if len(bare) != digits:
        raise InvalidRequest(
            f"a {algorithm.name} hash is {digits} hex digits ({algorithm.bits} bits), "
            f"not {len(bare)}"
        )
    return Hash.from_hex(bare)


def image_query(result: HashResult, algorithm: Algorithm, *, dihedral: bool) -> SearchQuery:
    """The query of an image hashed by ``algorithm`` (with its turns when ``dihedral``),
    saying when its bits are partly noise (pHash) or its PDQ quality is under 50."""
    name = algorithm.name
    hashes: Hash | dict[str, Hash] = (
        dict(zip(DIHEDRAL, result.dihedral[name], strict=True)) if dihedral else result.hashes[name]
    )
    said: dict[str, object] = {}
    unstable = result.unstable_bits.get(name, 0)
    if unstable:  # the query's own bits are partly noise: its matches are too
        said["unstable_bits"] = unstable
    quality = result.quality.get(name)
    if quality is not None:
        said["quality"] = quality
        if quality < MIN_QUALITY:  # Meta advises discarding such hashes
            said["low_information"] = True
    return SearchQuery(hashes, said)
