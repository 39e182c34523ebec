"""Colour JPEGs decoded straight into numpy by simplejpeg, pixel for pixel as Pillow does.

simplejpeg wraps the same libjpeg-turbo as Pillow, with the same settings (accurate
integer DCT, smooth upsampling, also at a reduced DCT scale), and writes the pixels into
one numpy array: no Pillow image to copy out of. tests/unit/test_jpeg.py checks that the
pixels equal Pillow's on every colour JPEG of the corpus, at full and at reduced scale.
Anything else (CMYK, grey, a file libjpeg warns about, simplejpeg not installed) is left
to Pillow, which decides what such a file gives. A large file with restart markers is
decoded in parts, one per thread (``_restarts``), into the same pixels.
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType

import numpy as np
import numpy.typing as npt
from PIL import Image

from ._restarts import Part, cut
from ._threads import run_all

__all__ = ["decode_at", "decode_rgb", "simplejpeg_module"]

U8 = npt.NDArray[np.uint8]


@lru_cache(maxsize=1)
def simplejpeg_module() -> ModuleType | None:
    """simplejpeg when it is installed (a dependency; the package works without it)."""
    try:
        import simplejpeg
    except ImportError:
        return None
    module: ModuleType = simplejpeg
    return module


def decode_rgb(data: bytes, header: Image.Image, threads: int = 1) -> U8 | None:
    """The RGB pixels of a colour JPEG at ``header.size`` (after any draft), or None.

    ``header`` is the file opened by Pillow, not yet loaded. None means: let Pillow decode.
    ``threads``: how many threads may share a file with restart markers (``_restarts``).
    """
    if header.mode != "RGB":
        return None
    return decode_at(data, header.size, threads)


def decode_at(data: bytes, size: tuple[int, int], threads: int = 1) -> U8 | None:
    """The RGB pixels of a colour JPEG decoded at ``size`` (width, height), or None.

    ``size`` is the frame's, or one of libjpeg's reduced DCT scales of it. None: simplejpeg
    is not installed, libjpeg warned, or another scale came out.
    """
    decoder = simplejpeg_module()
    if decoder is None:
        return None
    width, height = size
    parts = cut(data, size, threads) if threads > 1 else None
    if parts is not None:
        pixels = _decode_parts(decoder, parts, width, height)
        if pixels is not None:
            return pixels
    try:
        # strict: a warning from libjpeg (corrupt data, a premature end) is an error here,
        # and Pillow then decides what such a file gives.
        pixels = decoder.decode_jpeg(
            data, colorspace="RGB", min_width=width, min_height=height, strict=True
        )
    except (ValueError, MemoryError):
        return None
    if not isinstance(pixels, np.ndarray) or pixels.shape != (height, width, 3):
        return None  # another DCT scale than Pillow's draft chose: let Pillow decode
    return pixels


def _decode_parts(decoder: ModuleType, parts: list[Part], width: int, height: int) -> U8 | None:
    """The parts decoded on a thread each, into one array; None if any part did not decode.

    The first part decodes straight into the array; its rows past ``keep`` (read for the
    next part's sake) are overwritten by that part's own rows. The others decode apart and
    their kept rows are copied in once every part has ended.
    """
    out = np.empty((height, width, 3), dtype=np.uint8)
    tops = np.cumsum([0] + [part.keep for part in parts]).tolist()
    apart: dict[int, U8] = {}

    def decode_part(index: int) -> None:
        part = parts[index]
        top = tops[index]
        into = out[top : top + part.rows] if index == 0 else None
        if into is not None and into.shape[0] != part.rows:
            raise ValueError("a part runs past the image")
        pixels = decoder.decode_jpeg(
            part.jpeg,
            colorspace="RGB",
            min_width=width,
            min_height=part.rows,
            strict=True,
            buffer=into,
        )
        if pixels.shape != (part.rows, width, 3):
            raise ValueError(f"a part decoded to {pixels.shape}, not {part.rows} rows")
        if into is None:
            apart[index] = pixels

    try:
        run_all(decode_part, range(len(parts)))
    except (ValueError, MemoryError):
        return None  # decoded whole instead, which decides what the file gives
    for index, pixels in apart.items():
        part = parts[index]
        out[tops[index] : tops[index + 1]] = pixels[part.skip : part.skip + part.keep]
    return out
