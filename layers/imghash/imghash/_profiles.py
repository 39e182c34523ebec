"""The registry of hash profiles: how an image becomes thumbnails, named ``profile`` in the API.

Light on purpose (no numpy or Pillow at import); the work is in ``_pixels``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._decode import DecodedImage
    from ._pixels import Pixels

from ._errors import InvalidRequest

__all__ = ["DEFAULT_PROFILE", "PROFILES", "Profile", "resolve_profile"]

DEFAULT_PROFILE = "jimp"


@dataclass(frozen=True)
class Profile:
    """A way of turning a decoded image into grey thumbnails."""

    name: str
    summary: str
    applies_orientation: bool
    #: Name of the function in ``_pixels`` that prepares an image.
    function: str

    def prepare(self, decoded: DecodedImage, threads: int = 1) -> Pixels:
        """The image, ready to hand out thumbnails of any size; its pixel passes may share
        ``threads`` threads."""
        pixels = importlib.import_module("._pixels", __package__)
        prepared: Pixels = getattr(pixels, self.function)(decoded, threads)
        return prepared


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "jimp",
            "the reference service's values (Jimp 0.22): EXIF orientation, Jimp's "
            "grey and resizer; the default",
            True,
            "prepare_jimp",
        ),
        Profile(
            "imagehash",
            "the imagehash 4.3 library's values: Pillow convert('L'), LANCZOS, no EXIF orientation",
            False,
            "prepare_imagehash",
        ),
    )
}


def resolve_profile(name: str | None) -> Profile:
    """The profile called ``name`` (default ``jimp``)."""
    key = (name or DEFAULT_PROFILE).strip().lower()
    if key not in PROFILES:
        raise InvalidRequest(f"unknown profile {name!r}; use one of {', '.join(PROFILES)}")
    return PROFILES[key]
