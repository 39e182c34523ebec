"""Hash an image: read the source once, decode once, make each thumbnail once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeVar

from ._algorithms import ALGORITHMS, Algorithm, Computed, resolve_algorithms
from ._compare import MIN_QUALITY
from ._decode import DecodedImage, decode, decoder_failures
from ._errors import InvalidRequest
from ._hashvalue import Hash
from ._profiles import resolve_profile
from ._settings import Settings, get_settings
from ._sources import Source, image_frame, read_source
from ._threads import image_threads

if TYPE_CHECKING:
    from ._pixels import Pixels

__all__ = ["FAST_MIN_SIDE", "HashResult", "Source", "hash_image", "read_source"]

T = TypeVar("T")

#: Fast mode never lets the decoder go below 4x the largest thumbnail side. PDQ reads the
#: frame it is given (at least twice its 64x64; the README gives the agreement).
FAST_MIN_SIDE = 4 * max(max(a.thumbnail) for a in ALGORITHMS.values() if a.thumbnail)
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
    #: True for a flat or near-flat image whose hashes carry no real structure, for one
    #: whose pHash is mostly noise (more than half of its bits unstable), and for one
    #: whose PDQ quality is under 50 (Meta advises discarding such hashes).
    low_information: bool
    #: True for a flat or near-flat image: no algorithm's bits mean anything. Judged on
    #: the grey thumbnails, so only when an algorithm that reads them was asked for.
    flat: bool = False
    #: For each computed algorithm whose bits rounding noise can decide (pHash): the
    #: bits it did decide, as a mask in the hash's bit order (see ``_bits.unstable_bits``).
    #: Such bits may differ between CPUs, and between an image and its re-encoded copy;
    #: the comparison rule reads their count (``unstable_bits``).
    unstable: Mapping[str, Hash] = field(default_factory=dict)
    #: For each computed algorithm with a quality score (PDQ): the score, 0 to 100.
    quality: Mapping[str, int] = field(default_factory=dict)
    #: When asked for (``dihedral=True``), for each computed algorithm that supports it
    #: (pHash, PDQ): its hash of the image turned by each of ``imghash.DIHEDRAL``.
    dihedral: Mapping[str, tuple[Hash, ...]] = field(default_factory=dict)
    #: With ``dihedral``: the unstable bits of each of those hashes (pHash).
    dihedral_unstable_bits: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def hex(self) -> dict[str, str]:
        """``{"ahash": "fcff...", ...}`` for the algorithms that were computed."""
        return {name: value.hex() for name, value in self.hashes.items()}

    @property
    def unstable_bits(self) -> dict[str, int]:
        """How many bits rounding noise decided, by algorithm; the comparison rule reads it."""
        return {name: mask.value.bit_count() for name, mask in self.unstable.items()}

    def only(self, *names: str) -> HashResult:
        """This result with only the named algorithms' hashes and signals: what
        :func:`~imghash.compare` then decides on (``result.only("pdq")``)."""

        def keep(mapping: Mapping[str, T]) -> dict[str, T]:
            return {name: value for name, value in mapping.items() if name in names}

        return replace(
            self,
            hashes=keep(self.hashes),
            unstable=keep(self.unstable),
            quality=keep(self.quality),
            dihedral=keep(self.dihedral),
            dihedral_unstable_bits=keep(self.dihedral_unstable_bits),
        )

    def signals(self) -> dict[str, object]:
        """The signals that say something, as outputs show them beside the hashes.

        Nothing for a well-structured image hashed by the seed's algorithms, so that
        ``/v1/hash`` keeps the seed's shape: ``low_information`` only when true,
        ``unstable_bits`` only when some are, ``quality`` only when PDQ was asked for.
        """
        said: dict[str, object] = {}
        if self.low_information:
            said["low_information"] = True
        unstable = {name: count for name, count in self.unstable_bits.items() if count}
        if unstable:
            said["unstable_bits"] = unstable
        if self.quality:
            said["quality"] = dict(self.quality)
        return said


def hash_image(
    source: Source,
    *,
    algorithms: str | Sequence[str] | None = None,
    profile: str | None = None,
    fast: bool = False,
    settings: Settings | None = None,
    dihedral: bool = False,
) -> HashResult:
    """Hash an image: its bytes, a file path, a binary file object, a PIL image or a numpy array.

    A PIL image or a uint8 array (H, W), (H, W, 3) or (H, W, 4) hashes as the PNG of the same pixels
    would; a PIL image's EXIF orientation tag, if it has one, is applied by ``jimp`` as for
    the file it came from. URLs are not fetched here: see :func:`imghash.fetch_url`.

    ``algorithms``: ``"all"`` (default: aHash, dHash, pHash), one name (``pdq`` too), a
    comma list or a list of names.
    ``profile``: ``"jimp"`` (default, the reference values) or ``"imagehash"``.
    ``fast``: let the JPEG decoder scale down first (a few bits may differ).
    ``dihedral``: also hash the image turned each way (``HashResult.dihedral``), for
    the algorithms that can (pHash, PDQ).
    Raises an :class:`~imghash.ImghashError` subclass for any bad input.
    """
    chosen = resolve_algorithms(algorithms)
    prof = resolve_profile(profile)
    settings = settings or get_settings()
    got = read_source(source, settings)
    threads = image_threads(settings.threads)
    # One decode serves every algorithm, but in fast mode a JPEG is decoded at the scale
    # each algorithm allows (the thumbnails' first; PDQ's needs more pixels).
    sides: dict[int, list[Algorithm]] = {}
    for a in chosen:
        sides.setdefault(a.fast_side or FAST_MIN_SIDE, []).append(a)
    computed: dict[str, Computed] = {}
    flat = noise = False
    decoded: DecodedImage | None = None
    shown: tuple[DecodedImage, Pixels] | None = None
    for side, members in sorted(sides.items()):
        if decoded is None or (fast and decoded.format == "jpeg"):
            if isinstance(got, bytes):
                decoded = decode(got, settings, draft_side=side if fast else None, threads=threads)
            else:  # pixels already: nothing to draft from
                decoded = image_frame(got, settings)
            # Pillow may still decode lazily, or fail to convert an exotic mode, in here.
            with decoder_failures(decoded.format, f"image (mode {decoded.image.mode})"):
                pixels = prof.prepare(decoded, threads)
        with decoder_failures(decoded.format, f"image (mode {decoded.image.mode})"):
            for a in members:
                computed[a.name] = a.compute(pixels, prof.name, dihedral=dihedral)
            if any(a.thumbnail for a in members):
                flat = pixels.flatness() < LOW_INFORMATION_STD
                # Whether the image's pHash is noise says something about the image itself,
                # so it is asked even when pHash was not: its thumbnail is made for flatness.
                phash = ALGORITHMS["phash"]
                structure = computed.get(phash.name) or phash.compute(pixels, prof.name)
                noise = (structure.unstable_bits or 0) > MOSTLY_NOISE_BITS
        shown = shown or (decoded, pixels)
    if shown is None:  # resolve_algorithms never answers with none
        raise InvalidRequest("no algorithm to compute")
    frame, seen = shown
    computed = {a.name: computed[a.name] for a in chosen}  # in the order asked
    quality = {name: c.quality for name, c in computed.items() if c.quality is not None}
    turned = {name: c.dihedral for name, c in computed.items() if c.dihedral is not None}
    return HashResult(
        hashes={name: c.hash for name, c in computed.items()},
        profile=prof.name,
        format=frame.format,
        width=seen.width,
        height=seen.height,
        fast=fast and isinstance(got, bytes) and frame.format == "jpeg",
        low_information=flat or noise or any(q < MIN_QUALITY for q in quality.values()),
        flat=flat,
        unstable={name: c.unstable for name, c in computed.items() if c.unstable is not None},
        quality=quality,
        dihedral={name: tuple(c.hash for c in cs) for name, cs in turned.items()},
        dihedral_unstable_bits={
            name: tuple(c.unstable_bits or 0 for c in cs)
            for name, cs in turned.items()
            if cs[0].unstable is not None
        },
    )
