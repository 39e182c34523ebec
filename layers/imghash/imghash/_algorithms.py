"""The registry of hash algorithms: one entry each drives the API, the CLI and the index.

Light on purpose (no numpy at import): the API's meta route lists the registry,
and the bits are computed by ``_bits`` on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ._hashvalue import Hash

from ._errors import InvalidRequest

__all__ = ["ALGORITHMS", "Algorithm", "Computed", "resolve_algorithms"]


@dataclass(frozen=True)
class Computed:
    """One algorithm's hash of an image, with the signals its numbers give about it.

    Signals are computed where the numbers are (``_bits``) and read by the
    comparison rule (``_compare``) and the outputs; a later algorithm adds its own
    the same way (PDQ: a ``quality`` score).
    """

    hash: Hash
    #: How many bits rounding noise decided (``_bits.unstable_bits``); None for an
    #: algorithm whose bits are exact comparisons of integers (aHash, dHash).
    unstable_bits: int | None = None


@dataclass(frozen=True)
class Algorithm:
    """A hash algorithm: its name, the grey thumbnail it reads, and where its bits are set."""

    name: str
    width: int
    height: int
    summary: str
    #: Name of the function in ``_bits`` that sets the bits.
    function: str
    #: The hash's width in bits (``len`` of its :class:`Hash`): 64, or 256 for PDQ. The
    #: index stores and searches each algorithm's hashes by it.
    bits: int = 64

    def compute(self, thumb: npt.NDArray[np.uint8], profile: str) -> Computed:
        """The hash of a ``width`` x ``height`` grey thumbnail made by ``profile``."""
        bits = importlib.import_module("._bits", __package__)
        result: Computed = getattr(bits, self.function)(thumb, profile)
        return result


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm(
            "ahash", 8, 8, "average hash: 8x8 grey, bit = pixel above the mean", "average_hash"
        ),
        Algorithm(
            "dhash",
            9,
            8,
            "difference hash: 9x8 grey, bit = brighter than its left",
            "difference_hash",
        ),
        Algorithm(
            "phash",
            32,
            32,
            "perceptual hash: 32x32 grey, low DCT frequencies above their median",
            "perceptual_hash",
        ),
    )
}


def resolve_algorithms(spec: str | Iterable[str] | None) -> tuple[Algorithm, ...]:
    """Algorithms named by ``"all"``, one name, a comma list, or an iterable of names."""
    if spec is None:
        return tuple(ALGORITHMS.values())
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    chosen: list[Algorithm] = []
    for raw in names:
        name = raw.strip().lower()
        if name == "all":
            return tuple(ALGORITHMS.values())
        if name not in ALGORITHMS:
            allowed = ", ".join([*ALGORITHMS, "all"])
            raise InvalidRequest(f"unknown algorithm {raw.strip()!r}; use one of {allowed}")
        if ALGORITHMS[name] not in chosen:
            chosen.append(ALGORITHMS[name])
    if not chosen:
        raise InvalidRequest("no algorithm named; use ahash, dhash, phash or all")
    return tuple(chosen)
