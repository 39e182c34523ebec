"""Test oracle: the jimp profile's pixels as the package made them before issue 9.

A frozen copy of layers/imghash/imghash/_pixels.py (main, 2026-06): Pillow decode, two
float32 matrix conversions bracketing Jimp's grey, Pillow transposes. Kept only to check
that the faster pipeline changes no bit. Do not import it from the package.

Original docstring: decoded image to grey thumbnails, the way each profile does it.

``jimp`` reproduces the reference service (Jimp 0.22): RGBA, EXIF orientation,
Jimp's grey, Jimp's resizer. ``imagehash`` reproduces the imagehash 4.3
library: Pillow's ``convert("L")`` and LANCZOS, no orientation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageChops

if TYPE_CHECKING:
    from PIL._imaging import PixelAccess

from imghash._decode import DecodedImage, upright

from .legacy_resize import GreyPlanes, resize_grey

__all__ = ["Pixels", "jimp_grey", "prepare_imagehash", "prepare_jimp"]

U8 = npt.NDArray[np.uint8]

# Jimp's greyscale: trunc((0.2126 R + 0.7152 G) + 0.0722 B) in IEEE double.
_R, _G, _B = 0.2126, 0.7152, 0.0722
# Pillow evaluates a matrix conversion in float32. The exact value is a multiple
# of 1e-4 and float32's error stays below 3e-5, so away from integers Pillow
# truncates to the same integer as the double formula; the few pixels within
# _NEAR of an integer are recomputed in double.
_NEAR = 5e-5


def _double_grey(r: float, g: float, b: float) -> int:
    return int((_R * r + _G * g) + _B * b)


@lru_cache(maxsize=1)
def _grey_of_level() -> list[int]:
    """Jimp's grey of the colour (v, v, v), for grey inputs: v or v - 1."""
    return [_double_grey(v, v, v) for v in range(256)]


def jimp_grey(rgb: Image.Image) -> Image.Image:
    """Jimp's grey of an RGB image, exact, computed in C by Pillow where that is safe."""
    high = rgb.convert("L", (_R, _G, _B, -0.5 + _NEAR))  # Pillow adds 0.5, then truncates
    low = rgb.convert("L", (_R, _G, _B, -0.5 - _NEAR))
    near = ImageChops.difference(low, high)
    if near.getbbox() is None:
        return high
    # Pixels within _NEAR of an integer: found eight at a time, usually few
    # (though every neutral grey is one: its exact value is an integer).
    flags = np.frombuffer(near.tobytes(), dtype=np.uint8)
    whole = flags.size // 8 * 8
    words = np.flatnonzero(flags[:whole].view(np.uint64))
    spots = np.concatenate(
        [(words[:, None] * 8 + np.arange(8)).ravel(), np.arange(whole, flags.size)]
    )
    spots = spots[flags[spots] != 0]
    if spots.size * _PIXELS_PER_SPOT > flags.size:
        return _regrey_many(rgb, high, spots)
    source = cast("PixelAccess", rgb.load())
    target = cast("PixelAccess", high.load())
    width = rgb.width
    for spot in spots.tolist():
        xy = (spot % width, spot // width)
        r, g, b = source[xy]  # type: ignore[misc]
        target[xy] = _double_grey(r, g, b)
    return high


#: Recomputing one pixel through Pillow's pixel access costs about as much as copying
#: this many pixels of RGB out at once: beyond that share, read all of the RGB.
_PIXELS_PER_SPOT = 256


def _regrey_many(rgb: Image.Image, high: Image.Image, spots: npt.NDArray[np.intp]) -> Image.Image:
    pixels = np.frombuffer(rgb.tobytes(), dtype=np.uint8).reshape(-1, 3)[spots].astype(np.float64)
    grey = np.frombuffer(high.tobytes(), dtype=np.uint8).copy()
    grey[spots] = np.trunc((_R * pixels[:, 0] + _G * pixels[:, 1]) + _B * pixels[:, 2])
    return Image.frombuffer("L", high.size, grey.tobytes(), "raw", "L", 0, 1)


_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N", "I"}


def _jimp_planes(image: Image.Image) -> GreyPlanes:
    """Grey and alpha planes of a frame as Jimp sees it (RGBA 8-bit, then grey)."""
    mode = image.mode
    if mode in _SIXTEEN_BIT:
        wide = np.clip(np.asarray(image).astype(np.int64), 0, 65535) >> 8  # scaled, not clipped
        level = Image.fromarray(wide.astype(np.uint8))
        return GreyPlanes(level.point(_grey_of_level()), None)
    if mode in ("1", "L", "F"):
        return GreyPlanes(image.convert("L").point(_grey_of_level()), None)
    if mode in ("LA", "La"):
        la = image.convert("LA")
        return GreyPlanes(la.getchannel("L").point(_grey_of_level()), _alpha(la))
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        return GreyPlanes(jimp_grey(rgba.convert("RGB")), _alpha(rgba))
    return GreyPlanes(jimp_grey(image if mode == "RGB" else image.convert("RGB")), None)


def _alpha(image: Image.Image) -> Image.Image | None:
    """The alpha channel, or None when every pixel is opaque."""
    alpha = image.getchannel("A")
    low, _ = cast(tuple[int, int], alpha.getextrema())
    return None if low == 255 else alpha


class Pixels:
    """One image prepared for a profile; hands out grey thumbnails, each made once."""

    def __init__(self, make: Callable[[int, int], U8], width: int, height: int) -> None:
        self._make = make
        self._cache: dict[tuple[int, int], U8] = {}
        #: Size after orientation, as the profile sees the image.
        self.width = width
        self.height = height

    def flatness(self) -> float:
        """Standard deviation, in grey levels, of the 32x32 thumbnail (pHash's)."""
        return float(np.std(self.thumbnail(32, 32)))

    def thumbnail(self, width: int, height: int) -> U8:
        """The grey thumbnail of ``width`` x ``height``, uint8 (height, width)."""
        key = (width, height)
        if key not in self._cache:
            self._cache[key] = self._make(width, height)
        return self._cache[key]


def prepare_jimp(decoded: DecodedImage) -> Pixels:
    frame = upright(decoded)
    planes = _jimp_planes(frame)
    return Pixels(lambda w, h: resize_grey(planes, w, h), frame.width, frame.height)


def prepare_imagehash(decoded: DecodedImage) -> Pixels:
    grey = decoded.image.convert("L")
    return Pixels(
        lambda w, h: np.asarray(grey.resize((w, h), Image.Resampling.LANCZOS)),
        grey.width,
        grey.height,
    )
