"""Hash an image: read the source once, decode once, make each thumbnail once."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._algorithms import ALGORITHMS, Algorithm
from ._decode import decode
from ._errors import ImageTooLarge, InvalidRequest, UnsupportedImage
from ._hashvalue import Hash
from ._profiles import PROFILES, Profile
from ._settings import Settings, get_settings

__all__ = [
    "DEFAULT_PROFILE",
    "FAST_MIN_SIDE",
    "HashResult",
    "hash_image",
    "read_source",
    "resolve_algorithms",
    "resolve_profile",
]

DEFAULT_PROFILE = "jimp"
#: Fast mode never lets the decoder go below 4x the largest thumbnail side.
FAST_MIN_SIDE = 4 * max(max(a.width, a.height) for a in ALGORITHMS.values())
#: Standard deviation (grey levels) of the 32x32 thumbnail under which an image is
#: too flat for its bits to mean anything: they are set by noise and re-encoding.
LOW_INFORMATION_STD = 2.0

Source = bytes | bytearray | memoryview | str | os.PathLike[str]


@dataclass(frozen=True)
class HashResult:
    """The hashes of one image, with what was learnt about it on the way."""

    hashes: Mapping[str, Hash]
    profile: str
    format: str
    #: Size as the profile sees it (after EXIF orientation for ``jimp``).
    width: int
    height: int
    fast: bool
    #: True for a flat or near-flat image whose hashes carry no real structure.
    low_information: bool

    def hex(self) -> dict[str, str]:
        """``{"ahash": "fcff...", ...}`` for the algorithms that were computed."""
        return {name: value.hex() for name, value in self.hashes.items()}


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


def resolve_profile(name: str | None) -> Profile:
    """The profile called ``name`` (default ``jimp``)."""
    key = (name or DEFAULT_PROFILE).strip().lower()
    if key not in PROFILES:
        raise InvalidRequest(f"unknown profile {name!r}; use one of {', '.join(PROFILES)}")
    return PROFILES[key]


def read_source(source: Source, settings: Settings) -> bytes:
    """The bytes of ``source``: bytes as they are, or a file read up to the byte limit."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    path = Path(source)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InvalidRequest(f"{path} is a folder, not an image file")
        if size > settings.max_bytes:
            raise ImageTooLarge(
                f"{path} is {size:,} bytes; the limit is {settings.max_bytes:,} bytes"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidRequest(f"no such file: {path}") from None
    except PermissionError:
        raise InvalidRequest(f"cannot read {path}: permission denied") from None
    except IsADirectoryError:
        raise InvalidRequest(f"{path} is a folder, not an image file") from None


def hash_image(
    source: Source,
    *,
    algorithms: str | Sequence[str] | None = None,
    profile: str | None = None,
    fast: bool = False,
    settings: Settings | None = None,
) -> HashResult:
    """Hash an image given as bytes or a file path.

    ``algorithms``: ``"all"`` (default), one name, a comma list or a list of names.
    ``profile``: ``"jimp"`` (default, the reference values) or ``"imagehash"``.
    ``fast``: let the JPEG decoder scale down first (a few bits may differ).
    Raises an :class:`~imghash.ImghashError` subclass for any bad input.
    """
    chosen = resolve_algorithms(algorithms)
    prof = resolve_profile(profile)
    settings = settings or get_settings()
    data = read_source(source, settings)
    decoded = decode(data, settings, draft_side=FAST_MIN_SIDE if fast else None)
    try:
        pixels = prof.prepare(decoded)
        hashes = {a.name: a.compute(pixels.thumbnail(a.width, a.height), prof.name) for a in chosen}
        flatness = float(np.std(pixels.thumbnail(32, 32)))
    except (OSError, ValueError) as err:  # pixel conversions of exotic modes
        raise UnsupportedImage(
            f"the {decoded.format.upper()} image (mode {decoded.image.mode}) could not be "
            f"converted to pixels ({type(err).__name__})"
        ) from None
    return HashResult(
        hashes=hashes,
        profile=prof.name,
        format=decoded.format,
        width=pixels.width,
        height=pixels.height,
        fast=fast and decoded.format == "jpeg",
        low_information=flatness < LOW_INFORMATION_STD,
    )
