"""Hash profiles: how a decoded image becomes the grey thumbnails the algorithms read.

``jimp`` (the default) reproduces the reference service (Jimp 0.22): RGBA,
EXIF orientation, Jimp's grey, Jimp's resizer. ``imagehash`` reproduces the
imagehash 4.3 library: Pillow's ``convert("L")`` and LANCZOS, no orientation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageChops

from ._decode import DecodedImage, upright
from ._jimp_resize import resize_grey

__all__ = ["PROFILES", "Pixels", "Profile", "jimp_grey"]

U8 = npt.NDArray[np.uint8]

# Jimp's greyscale: trunc((0.2126 R + 0.7152 G) + 0.0722 B) in IEEE double.
_R, _G, _B = 0.2126, 0.7152, 0.0722
# Pillow evaluates a matrix conversion in float32; away from integers (the exact
# value is a multiple of 1e-4, the float32 error is below 1e-4 / 4) it truncates
# to the same integer. Pixels within _NEAR of an integer are recomputed in double.
_NEAR = 2.5e-3


def _double_grey(r: npt.NDArray[np.generic], g: npt.NDArray[np.generic],
                 b: npt.NDArray[np.generic]) -> U8:
    value = (_R * r.astype(np.float64) + _G * g.astype(np.float64)) + _B * b.astype(np.float64)
    return np.trunc(value).astype(np.uint8)


@lru_cache(maxsize=1)
def _grey_of_level() -> U8:
    """Jimp's grey of the colour (v, v, v), for grey inputs."""
    level = np.arange(256)
    return _double_grey(level, level, level)


def jimp_grey(rgb: Image.Image) -> U8:
    """Jimp's grey of an RGB image, exact, computed in C by Pillow where it is safe."""
    low = rgb.convert("L", (_R, _G, _B, -0.5 - _NEAR))  # Pillow adds 0.5, then truncates
    high = rgb.convert("L", (_R, _G, _B, -0.5 + _NEAR))
    grey = np.array(high)
    box = ImageChops.difference(low, high).getbbox()
    if box is not None:
        left, top, right, bottom = box
        near = np.array(low.crop(box)) != grey[top:bottom, left:right]
        ys, xs = np.nonzero(near)
        ys += top
        xs += left
        pixels = np.asarray(rgb)[ys, xs]
        grey[ys, xs] = _double_grey(pixels[:, 0], pixels[:, 1], pixels[:, 2])
    return grey


_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N", "I"}


def _jimp_planes(image: Image.Image) -> tuple[U8, U8 | None]:
    """Grey and alpha planes of a frame as Jimp sees it (RGBA 8-bit, then grey)."""
    mode = image.mode
    if mode in _SIXTEEN_BIT:
        wide = np.clip(np.asarray(image).astype(np.int64), 0, 65535) >> 8  # scaled, not clipped
        return _grey_of_level()[wide], None
    if mode == "F":
        image = image.convert("L")
        mode = "L"
    if mode in ("1", "L"):
        return _grey_of_level()[np.asarray(image.convert("L"))], None
    if mode in ("LA", "La"):
        la = image.convert("LA")
        return _grey_of_level()[np.asarray(la.getchannel("L"))], np.asarray(la.getchannel("A"))
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        alpha: U8 | None = np.asarray(rgba.getchannel("A"))
        rgb = rgba.convert("RGB")
    else:
        rgb = image if mode == "RGB" else image.convert("RGB")
        alpha = None
    return jimp_grey(rgb), alpha


class Pixels:
    """One image prepared for a profile; hands out grey thumbnails, each made once."""

    def __init__(self, make: Callable[[int, int], U8], width: int, height: int) -> None:
        self._make = make
        self._cache: dict[tuple[int, int], U8] = {}
        #: Size after orientation, as the profile sees the image.
        self.width = width
        self.height = height

    def thumbnail(self, width: int, height: int) -> U8:
        """The grey thumbnail of ``width`` x ``height``, uint8 (height, width)."""
        key = (width, height)
        if key not in self._cache:
            self._cache[key] = self._make(width, height)
        return self._cache[key]


def _prepare_jimp(decoded: DecodedImage) -> Pixels:
    frame = upright(decoded)
    grey, alpha = _jimp_planes(frame)
    if alpha is not None and bool(np.all(alpha == 255)):
        alpha = None
    return Pixels(lambda w, h: resize_grey(grey, alpha, w, h), frame.width, frame.height)


def _prepare_imagehash(decoded: DecodedImage) -> Pixels:
    grey = decoded.image.convert("L")
    return Pixels(
        lambda w, h: np.asarray(grey.resize((w, h), Image.Resampling.LANCZOS)),
        grey.width, grey.height,
    )


@dataclass(frozen=True)
class Profile:
    """A way of turning a decoded image into thumbnails, named in the API as ``profile``."""

    name: str
    summary: str
    prepare: Callable[[DecodedImage], Pixels] = field(repr=False)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("jimp", "the reference service's values (Jimp 0.22): EXIF orientation, "
                "Jimp's grey and resizer; the default", _prepare_jimp),
        Profile("imagehash", "the imagehash 4.3 library's values: Pillow convert('L'), "
                "LANCZOS, no EXIF orientation", _prepare_imagehash),
    )
}
