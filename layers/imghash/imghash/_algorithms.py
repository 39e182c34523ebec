"""The registry of hash algorithms: one entry each drives the API, the CLI and the index.

Light on purpose (no numpy at import): the API's meta route lists the registry,
and the bits are computed on first use by the module each entry names (``_bits`` for
the seed's three, ``_pdq`` for PDQ).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._hashvalue import Hash
    from ._pixels import Pixels

from ._errors import InvalidRequest

__all__ = ["ALGORITHMS", "ALL", "Algorithm", "Computed", "resolve_algorithms"]


@dataclass(frozen=True)
class Computed:
    """One algorithm's hash of an image, with the signals its numbers give about it.

    Signals are computed where the numbers are (``_bits``, ``_pdq``) and read by the
    comparison rule (``_compare``) and the outputs.
    """

    hash: Hash
    #: How many bits rounding noise decided (``_bits.unstable_bits``); None for an
    #: algorithm whose bits are exact comparisons of integers (aHash, dHash).
    unstable_bits: int | None = None
    #: How much structure the image has for this algorithm, 0 to 100 (PDQ's quality
    #: score); None for an algorithm without one.
    quality: int | None = None
    #: When asked for: the image's hash turned by each of ``_dihedral.DIHEDRAL``, with
    #: its own signals (entry 0 is this one); None otherwise.
    dihedral: tuple[Computed, ...] | None = None


@dataclass(frozen=True)
class Algorithm:
    """A hash algorithm: its name, what it reads, where its bits are set, how it matches."""

    name: str
    summary: str
    #: The module (in this package) and the function in it that compute the hash.
    module: str
    function: str
    #: The hash's width in bits.
    bits: int
    #: The likely-same limit: two images are within it when at most this many bits differ.
    max_distance: int
    #: The grey thumbnail (width, height) it reads from the profile, or None for an
    #: algorithm that reads the frame through a pipeline of its own (PDQ).
    thumbnail: tuple[int, int] | None = None
    #: Part of ``all``: the seed's three algorithms, whose answer keeps the seed's shape.
    in_all: bool = True
    #: Whether it hashes the eight orientations from one transform (dihedral matching).
    dihedral: bool = False
    #: In fast mode, the smallest side a JPEG may be decoded at for it (DCT scaling);
    #: None: 4x the largest thumbnail side, shared by every thumbnail reader.
    fast_side: int | None = None

    def compute(self, pixels: Pixels, profile: str, *, dihedral: bool = False) -> Computed:
        """The hash of an image prepared by ``profile`` (with its turns when ``dihedral``)."""
        module = importlib.import_module(self.module, __package__)
        function = getattr(module, self.function)
        source = pixels if self.thumbnail is None else pixels.thumbnail(*self.thumbnail)
        result: Computed = (
            function(source, profile, dihedral=True)
            if dihedral and self.dihedral
            else function(source, profile)
        )
        return result


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm(
            "ahash",
            "average hash: 8x8 grey, bit = pixel above the mean",
            "._bits",
            "average_hash",
            bits=64,
            max_distance=8,
            thumbnail=(8, 8),
        ),
        Algorithm(
            "dhash",
            "difference hash: 9x8 grey, bit = brighter than its left",
            "._bits",
            "difference_hash",
            bits=64,
            max_distance=10,
            thumbnail=(9, 8),
        ),
        Algorithm(
            "phash",
            "perceptual hash: 32x32 grey, low DCT frequencies above their median",
            "._bits",
            "perceptual_hash",
            bits=64,
            max_distance=12,
            thumbnail=(32, 32),
            dihedral=True,
        ),
        Algorithm(
            "pdq",
            "Meta's PDQ: 256 bits and a quality score 0-100; luminance, Jarosz box "
            "filters to 64x64, 16x16 DCT above its median (asked for by name)",
            "._pdq",
            "pdq_computed",
            bits=256,
            max_distance=31,
            in_all=False,
            dihedral=True,
            # The size Meta's own tool resizes an image to before hashing it. At 128 a
            # side (the thumbnails' floor) the 64x64 decimation aliases: 8 bits off the
            # exact hash on average over the corpus JPEGs, 38 at worst; at 512, 0.3 and 6.
            fast_side=512,
        ),
    )
}

#: What ``all`` (and no choice) means: the seed's three algorithms.
ALL = tuple(a for a in ALGORITHMS.values() if a.in_all)


def resolve_algorithms(spec: str | Iterable[str] | None) -> tuple[Algorithm, ...]:
    """Algorithms named by ``"all"`` (the seed's three), one name, a comma list, or an
    iterable of names; ``all`` in a list stands for the three (``"all,pdq"``: all four)."""
    if spec is None:
        return ALL
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    chosen: list[Algorithm] = []
    for raw in names:
        name = raw.strip().lower()
        if name != "all" and name not in ALGORITHMS:
            allowed = ", ".join([*ALGORITHMS, "all"])
            raise InvalidRequest(f"unknown algorithm {raw.strip()!r}; use one of {allowed}")
        # "all" stands for the seed's three in a list too: "all,pdq" asks for every one.
        for algorithm in ALL if name == "all" else (ALGORITHMS[name],):
            if algorithm not in chosen:
                chosen.append(algorithm)
    if not chosen:
        raise InvalidRequest(f"no algorithm named; use {', '.join([*ALGORITHMS, 'all'])}")
    return tuple(chosen)
