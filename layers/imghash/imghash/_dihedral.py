"""Dihedral matching: an image against the eight ways it can be turned or flipped.

The eight orientations are the rotations and reflections of a rectangle (the dihedral
group of order 8). A DCT is turned with the image by transposing it and changing the
sign of its odd frequencies, so PDQ and pHash get all eight hashes from the one
transform they already compute (``_pdq.dct_dihedral``); no pixel is turned.

Light on purpose (no numpy at import): the names are part of the API's description.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._errors import InvalidRequest

if TYPE_CHECKING:
    from ._hashing import Source
    from ._hashvalue import Hash
    from ._settings import Settings

__all__ = ["DIHEDRAL", "check_dihedral", "dihedral_algorithms", "dihedral_hashes"]

#: The orientations, in the order of Meta's reference (``pdqDihedralHash256esFromFloatLuma``,
#: ``pdqhash.compute_dihedral``): entry k of a dihedral tuple is the hash of the image
#: turned by ``DIHEDRAL[k]``. In numpy terms, for an image ``a`` (rows, columns):
#: ``rot90(a, 1)`` (a quarter turn counter-clockwise), ``rot90(a, 2)``, ``rot90(a, 3)``,
#: ``a[::-1]`` (upside down), ``a[:, ::-1]`` (mirrored left to right), ``a.T`` (the main
#: diagonal) and ``rot90(a, 2).T`` (the other diagonal).
DIHEDRAL = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
)


def dihedral_algorithms() -> tuple[str, ...]:
    """The algorithms that hash the eight orientations (from the registry)."""
    from ._algorithms import ALGORITHMS

    return tuple(a.name for a in ALGORITHMS.values() if a.dihedral)


def dihedral_hashes(
    source: Source,
    *,
    algorithm: str = "pdq",
    profile: str | None = None,
    fast: bool = False,
    settings: Settings | None = None,
) -> tuple[Hash, ...]:
    """The eight hashes of ``source`` turned by each of :data:`DIHEDRAL`, in that order.

    What a search with dihedral matching looks up: an indexed image turned or flipped
    from this one is near one of them. ``algorithm`` is one that supports it (``pdq`` or
    ``phash``); the other options are those of :func:`~imghash.hash_image`, and entry 0
    is the hash ``hash_image`` gives.
    """
    from ._hashing import hash_image

    supported = dihedral_algorithms()
    if not isinstance(algorithm, str) or algorithm.strip().lower() not in supported:
        raise InvalidRequest(
            f"dihedral hashes are made by {' and '.join(supported)}, not {algorithm!r}"
        )
    name = algorithm.strip().lower()
    result = hash_image(
        source, algorithms=name, profile=profile, fast=fast, settings=settings, dihedral=True
    )
    return result.dihedral[name]


def check_dihedral(names: Sequence[str]) -> None:
    """Refuse dihedral matching when none of ``names`` supports it."""
    if not set(names) & set(dihedral_algorithms()):
        raise InvalidRequest(
            f"dihedral matching needs {' or '.join(dihedral_algorithms())} among the "
            f"algorithms compared, not only {', '.join(names)}"
        )
