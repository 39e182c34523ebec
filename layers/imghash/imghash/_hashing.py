"""Hash an image: read the source once, decode once, make each thumbnail once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ._algorithms import ALGORITHMS, resolve_algorithms
from ._decode import decode, decoder_failures
from ._hashvalue import Hash
from ._profiles import resolve_profile
from ._settings import Settings, get_settings
from ._sources import Source, image_frame, read_source

__all__ = ["FAST_MIN_SIDE", "HashResult", "Source", "hash_image", "read_source"]

#: Fast mode never lets the decoder go below 4x the largest thumbnail side.
FAST_MIN_SIDE = 4 * max(max(a.width, a.height) for a in ALGORITHMS.values())
#: Standard deviation (grey levels) of the 32x32 thumbnail under which an image is
#: too flat for its bits to mean anything: they are set by noise and re-encoding.
LOW_INFORMATION_STD = 2.0
#: A pHash with more unstable bits than this (half of its 64) is mostly noise: the
#: image's low frequencies are (nearly) all exactly zero, as for checkerboards.
MOSTLY_NOISE_BITS = 32


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
    #: True for a flat or near-flat image whose hashes carry no real structure, and
    #: for one whose pHash is mostly noise (more than half of its bits unstable).
    low_information: bool
    #: True for a flat or near-flat image: no algorithm's bits mean anything.
    flat: bool = False
    #: For each computed algorithm whose bits rounding noise can decide (pHash): the
    #: bits it did decide, as a mask in the hash's bit order (see ``_bits.unstable_bits``).
    #: Such bits may differ between CPUs, and between an image and its re-encoded copy.
    unstable: Mapping[str, Hash] = field(default_factory=dict)

    def hex(self) -> dict[str, str]:
        """``{"ahash": "fcff...", ...}`` for the algorithms that were computed."""
        return {name: value.hex() for name, value in self.hashes.items()}

    @property
    def unstable_bits(self) -> dict[str, int]:
        """How many bits rounding noise decided, by algorithm; the comparison rule reads it."""
        return {name: mask.value.bit_count() for name, mask in self.unstable.items()}

    def signals(self) -> dict[str, object]:
        """The signals that say something, as outputs show them beside the hashes.

        Nothing for a well-structured image, so that ``/v1/hash`` keeps the seed's
        shape: ``low_information`` only when true, ``unstable_bits`` only when some are.
        """
        said: dict[str, object] = {}
        if self.low_information:
            said["low_information"] = True
        unstable = {name: count for name, count in self.unstable_bits.items() if count}
        if unstable:
            said["unstable_bits"] = unstable
        return said


def hash_image(
    source: Source,
    *,
    algorithms: str | Sequence[str] | None = None,
    profile: str | None = None,
    fast: bool = False,
    settings: Settings | None = None,
) -> HashResult:
    """Hash an image: its bytes, a file path, a binary file object, a PIL image or a numpy array.

    A PIL image or a uint8 array (H, W), (H, W, 3) or (H, W, 4) hashes as the PNG of the same pixels
    would; a PIL image's EXIF orientation tag, if it has one, is applied by ``jimp`` as for
    the file it came from. URLs are not fetched here: see :func:`imghash.fetch_url`.

    ``algorithms``: ``"all"`` (default), one name, a comma list or a list of names.
    ``profile``: ``"jimp"`` (default, the reference values) or ``"imagehash"``.
    ``fast``: let the JPEG decoder scale down first (a few bits may differ).
    Raises an :class:`~imghash.ImghashError` subclass for any bad input.
    """
    chosen = resolve_algorithms(algorithms)
    prof = resolve_profile(profile)
    settings = settings or get_settings()
    got = read_source(source, settings)
    if isinstance(got, bytes):
        decoded = decode(got, settings, draft_side=FAST_MIN_SIDE if fast else None)
        drafted = fast and decoded.format == "jpeg"
    else:  # pixels already: nothing to draft from
        decoded = image_frame(got, settings)
        drafted = False
    # Pillow may still decode lazily, or fail to convert an exotic mode, in here.
    with decoder_failures(decoded.format, f"image (mode {decoded.image.mode})"):
        pixels = prof.prepare(decoded)
        computed = {
            a.name: a.compute(pixels.thumbnail(a.width, a.height), prof.name) for a in chosen
        }
        flat = pixels.flatness() < LOW_INFORMATION_STD
        # Whether the image's pHash is noise says something about the image itself,
        # so it is asked even when pHash was not: its thumbnail is made for flatness.
        phash = ALGORITHMS["phash"]
        structure = computed.get(phash.name) or phash.compute(
            pixels.thumbnail(phash.width, phash.height), prof.name
        )
    return HashResult(
        hashes={name: c.hash for name, c in computed.items()},
        profile=prof.name,
        format=decoded.format,
        width=pixels.width,
        height=pixels.height,
        fast=drafted,
        low_information=flat or (structure.unstable_bits or 0) > MOSTLY_NOISE_BITS,
        flat=flat,
        unstable={name: c.unstable for name, c in computed.items() if c.unstable is not None},
    )
