"""Colour JPEGs decoded straight into numpy by simplejpeg, pixel for pixel as Pillow does.

simplejpeg wraps the same libjpeg-turbo as Pillow, with the same settings (accurate
integer DCT, smooth upsampling, also at a reduced DCT scale), and writes the pixels into
one numpy array: no Pillow image to copy out of. tests/unit/test_jpeg.py checks that the
pixels equal Pillow's on every colour JPEG of the corpus, at full and at reduced scale.
Anything else (CMYK, grey, a file libjpeg warns about, simplejpeg not installed) is left
to Pillow, which decides what such a file gives.
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType

import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = ["decode_rgb", "simplejpeg_module"]


@lru_cache(maxsize=1)
def simplejpeg_module() -> ModuleType | None:
    """simplejpeg when it is installed (a dependency; the package works without it)."""
    try:
        import simplejpeg
    except ImportError:
        return None
    module: ModuleType = simplejpeg
    return module


def decode_rgb(data: bytes, header: Image.Image) -> npt.NDArray[np.uint8] | None:
    """The RGB pixels of a colour JPEG at ``header.size`` (after any draft), or None.

    ``header`` is the file opened by Pillow, not yet loaded. None means: let Pillow decode.
    """
    decoder = simplejpeg_module()
    if decoder is None or header.mode != "RGB":
        return None
    width, height = header.size
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
