"""Decoded image to grey thumbnails, the way each profile does it (numpy and Pillow).

``jimp`` reproduces the reference service (Jimp 0.22): RGBA, EXIF orientation,
Jimp's grey, Jimp's resizer. ``imagehash`` reproduces the imagehash 4.3
library: Pillow's ``convert("L")`` and LANCZOS, no orientation. PDQ reads the frame
through its own pipeline in both (``pdq_columns``), turned as the profile turns.

Memory stays proportional to the pixels: the jimp profile reads the decoded frame in
blocks of rows and keeps only the grey plane (and alpha, if any), one byte a pixel each,
laid out as the resizer reads it; PDQ's luminance is one float32 plane, filtered in
place. Each is made only when an algorithm asks for it, and no other full-size copy in
a wider type is ever made.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar, cast

import numpy as np
import numpy.typing as npt
from PIL import Image

from ._algorithms import ALGORITHMS
from ._decode import DecodedImage
from ._grey import GreyMaker, grey_of_level, rows_per_block
from ._jimp_resize import GreyPlanes, resize_grey
from ._pdq import LUMA_ROWS, LumaMaker
from ._threads import for_blocks

__all__ = ["Pixels", "jimp_planes", "pdq_columns", "prepare_imagehash", "prepare_jimp"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
T = TypeVar("T")

#: Every thumbnail width the algorithms read: the resizer sums columns once for all.
_WIDTHS = tuple(sorted({a.thumbnail[0] for a in ALGORITHMS.values() if a.thumbnail}))
_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N", "I"}
#: Pillow modes read block by block as they are; any other is converted first.
_DIRECT = {"RGB", "RGBA", "L", "LA", "1", "F", *_SIXTEEN_BIT}

#: EXIF orientation -> (transposed, flip rows, flip columns) of the stored frame that gives
#: the upright image's columns (the layout the width pass reads). Orientations 1-4 keep the
#: axes, so their columns are the stored frame transposed; 5-8 swap them, so their columns
#: are the stored rows as they are.
_ORIENT = {
    1: (True, False, False),
    2: (True, True, False),
    3: (True, True, True),
    4: (True, False, True),
    5: (False, False, False),
    6: (False, True, False),
    7: (False, True, True),
    8: (False, False, True),
}


def _blocks(decoded: DecodedImage) -> tuple[str, Callable[[int, int], U8]]:
    """The frame's pixel kind (``L``, ``LA``, ``RGB``, ``RGBA``) and a reader of row blocks.

    A block is (rows, width, channels) uint8, as Jimp sees the frame: 16-bit samples
    scaled (``v >> 8``, never clipped), palette, CMYK and the like converted to RGB(A).
    """
    if decoded.rgb is not None:
        rgb = decoded.rgb
        return "RGB", lambda top, bottom: rgb[top:bottom]
    image = decoded.image
    mode = image.mode
    # As Jimp's reader: grey modes stay grey (a tRNS colour included), an RGB image with a
    # transparent colour and every mode with alpha or a palette become RGB(A).
    if mode == "La":
        image = image.convert("LA")
    elif mode not in _DIRECT or (mode == "RGB" and image.has_transparency_data):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    mode = image.mode
    width = image.width
    image.load()  # before any block is read: the blocks may be read by several threads

    def crop(top: int, bottom: int) -> Image.Image:
        return image.crop((0, top, width, bottom))

    if mode in _SIXTEEN_BIT:
        return "L", lambda top, bottom: (
            np.clip(np.asarray(crop(top, bottom)), 0, 65535) >> 8
        ).astype(np.uint8)[..., None]
    if mode in ("1", "F"):
        return "L", lambda top, bottom: np.asarray(crop(top, bottom).convert("L"))[..., None]
    if mode == "L":
        return "L", lambda top, bottom: np.asarray(crop(top, bottom))[..., None]
    return mode, lambda top, bottom: np.asarray(crop(top, bottom))


def jimp_planes(decoded: DecodedImage, threads: int = 1) -> GreyPlanes:
    """Grey and alpha planes of a frame as Jimp sees it (RGBA 8-bit, upright, then grey).

    ``threads``: how many threads may share the row blocks (``_threads.for_blocks``).
    """
    kind, read = _blocks(decoded)
    height, width = decoded.image.height, decoded.image.width
    if decoded.rgb is not None:
        height, width = decoded.rgb.shape[:2]
    transposed, flip_rows, flip_columns = _ORIENT.get(decoded.orientation, _ORIENT[1])
    # The planes, with one spare zero row after the last where the resizer's padding reads.
    shape = (width + 1, height) if transposed else (height + 1, width)
    grey = np.empty(shape, dtype=np.uint8)
    alpha = np.empty(shape, dtype=np.uint8) if kind in ("LA", "RGBA") else None
    # Each block is written where the orientation puts it: no turned copy is made after.
    grey_view = _flipped(grey, flip_rows, flip_columns)
    alpha_view = None if alpha is None else _flipped(alpha, flip_rows, flip_columns)
    level = grey_of_level()
    rows = rows_per_block(width)

    def fill(tops: range) -> None:
        make = GreyMaker(width, 4 if kind == "RGBA" else 3) if kind.startswith("RGB") else None
        for top in tops:
            bottom = min(top + rows, height)
            block = read(top, bottom)
            grey_out = grey_view[:, top:bottom].T if transposed else grey_view[top:bottom]
            if make is not None:
                make(block, grey_out)
            else:
                grey_out[...] = level[block[..., 0]]
            if alpha_view is not None:
                alpha_out = alpha_view[:, top:bottom].T if transposed else alpha_view[top:bottom]
                alpha_out[...] = block[..., -1]

    for_blocks(height, rows, width, threads, fill)
    grey[-1] = 0
    if alpha is not None:
        alpha[-1] = 0
        if int(alpha[:-1].min()) == 255:
            alpha = None  # every pixel opaque: Jimp's result is the opaque one
    return GreyPlanes(grey, alpha)


def _flipped(plane: U8, flip_rows: bool, flip_columns: bool) -> U8:
    """The body of ``plane`` (all but its spare last row), flipped as the orientation asks."""
    body = plane[:-1]
    body = body[::-1] if flip_rows else body
    return body[:, ::-1] if flip_columns else body


def _stored_size(decoded: DecodedImage) -> tuple[int, int]:
    """(height, width) of the frame as decoded (smaller than the header's in fast mode)."""
    if decoded.rgb is not None:
        height, width = decoded.rgb.shape[:2]
        return height, width
    return decoded.image.height, decoded.image.width


def pdq_columns(decoded: DecodedImage, *, turn: bool, threads: int = 1) -> F32:
    """PDQ's luminance of the frame, laid out by columns: (columns, rows) float32.

    The frame is read as the jimp profile reads it (8-bit RGB, 16-bit samples scaled
    ``v >> 8``; palette, CMYK and the like converted by Pillow; alpha left out, as
    ``pdqhash`` users do with ``convert("RGB")``), and turned upright by its EXIF
    orientation when ``turn``. The turn costs nothing: each block of rows is written
    where it belongs in the upright image's column layout, the one PDQ's filters read.
    ``threads``: how many threads may share the row blocks (``_threads.for_blocks``).
    """
    _kind, read = _blocks(decoded)
    height, width = _stored_size(decoded)
    transposed, flip_rows, flip_columns = _ORIENT.get(
        decoded.orientation if turn else 1, _ORIENT[1]
    )
    plane = np.empty((width, height) if transposed else (height, width), dtype=np.float32)
    view = plane[::-1] if flip_rows else plane
    view = view[:, ::-1] if flip_columns else view

    def fill(tops: range) -> None:
        make = LumaMaker(width)
        for top in tops:
            bottom = min(top + LUMA_ROWS, height)
            make(read(top, bottom), view[:, top:bottom].T if transposed else view[top:bottom])

    for_blocks(height, LUMA_ROWS, width, threads, fill)
    return plane


def _once(make: Callable[[], T]) -> Callable[[], T]:
    """``make``, called the first time only: the result is kept for the later calls."""
    return cache(make)


class Pixels:
    """One image prepared for a profile; hands out grey thumbnails, each made once."""

    def __init__(
        self,
        make: Callable[[int, int], U8],
        width: int,
        height: int,
        luma: Callable[[], F32],
    ) -> None:
        self._make = make
        self._luma = luma
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

    def luma_columns(self) -> F32:
        """PDQ's luminance plane by columns (``pdq_columns``), made afresh: PDQ's filters
        overwrite it."""
        return self._luma()


def prepare_jimp(decoded: DecodedImage, threads: int = 1) -> Pixels:
    planes = _once(lambda: jimp_planes(decoded, threads))
    height, width = _stored_size(decoded)
    if decoded.orientation >= 5:  # a quarter turn: the sides swap
        width, height = height, width
    return Pixels(
        lambda w, h: resize_grey(planes(), w, h, _WIDTHS),
        width,
        height,
        lambda: pdq_columns(decoded, turn=True, threads=threads),
    )


def prepare_imagehash(decoded: DecodedImage, threads: int = 1) -> Pixels:
    grey = _once(lambda: decoded.pillow().convert("L"))
    height, width = _stored_size(decoded)
    return Pixels(
        lambda w, h: cast(U8, np.asarray(grey().resize((w, h), Image.Resampling.LANCZOS))),
        width,
        height,
        lambda: pdq_columns(decoded, turn=False, threads=threads),
    )
