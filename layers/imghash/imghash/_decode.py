"""Bytes to a decoded first frame: sniffing, limits from the header, then pixels.

The format is sniffed from the leading bytes, never trusted from a name or a
``Content-Type``. Size, pixel count and frame count are checked from the
header before a single pixel is decoded (DESIGN §4).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, UnidentifiedImageError

from ._errors import ImageTooLarge, UnsupportedImage
from ._formats import FORMATS, sniff
from ._settings import Settings

__all__ = ["MAX_SIDE", "DecodedImage", "decode", "heif_available", "inspect_header", "upright"]


@dataclass(frozen=True)
class DecodedImage:
    """The first frame of an image, decoded, as stored (orientation not yet applied)."""

    image: Image.Image
    format: str
    width: int
    height: int
    #: EXIF orientation tag (1 to 8), 1 when absent or unreadable.
    orientation: int


@lru_cache(maxsize=1)
def heif_available() -> bool:
    """Whether the optional HEIC/HEIF decoder (pillow-heif) is installed; registers it once."""
    try:
        from pillow_heif import register_heif_opener  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return False
    register_heif_opener()
    return True


def _open(data: bytes, fmt: str, settings: Settings) -> Image.Image:
    """Open (header only) with exactly the sniffed format's plugin."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard speaks in a warning first; make it an error so
            # that it cannot leak to the caller's warning filters.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=[FORMATS[fmt]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(
            f"the image header declares more than {Image.MAX_IMAGE_PIXELS:,} pixels, a likely "
            f"decompression bomb; the limit is {settings.max_pixels:,} pixels"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
        raise UnsupportedImage(
            f"the {fmt.upper()} header could not be read ({type(err).__name__}); "
            "the file is damaged or not really that format"
        ) from None


def _frame_count(image: Image.Image) -> int:
    if not getattr(image, "is_animated", False):
        return 1
    try:
        return int(getattr(image, "n_frames", 1))
    except (OSError, EOFError, ValueError, SyntaxError):
        return 1  # a damaged later frame does not matter: only the first is decoded


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # malformed EXIF: Pillow raises many kinds; the pixels stay usable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def inspect_header(prefix: bytes, settings: Settings) -> str:
    """Check what the first bytes of an object say, before downloading the rest.

    Returns the format; raises UnsupportedImage for what is not an image and
    ImageTooLarge for a header over the pixel limit. A header that does not fit
    in ``prefix`` (a JPEG with large metadata) is left for the full decode.
    """
    fmt = sniff(prefix)
    if fmt == "heif" and not heif_available():
        raise UnsupportedImage(
            "HEIC/HEIF needs the optional decoder: pip install 'imghash-service[heif]'"
        )
    try:
        image = _open(prefix, fmt, settings)
    except UnsupportedImage:
        return fmt
    _check_size(image.size, settings)
    return fmt


#: Longest side accepted, whatever the pixel count: a 50,000,000 x 1 image is within
#: the pixel limit but would make the resizer walk fifty million source steps.
MAX_SIDE = 65_535


def _check_size(size: tuple[int, int], settings: Settings) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise UnsupportedImage(f"the image header declares an empty size {width}x{height}")
    if max(width, height) > MAX_SIDE:
        raise ImageTooLarge(
            f"the image is {width}x{height}; no side may be longer than {MAX_SIDE:,} pixels"
        )
    if width * height > settings.max_pixels:
        raise ImageTooLarge(
            f"the image is {width}x{height} = {width * height:,} pixels; "
            f"the limit is {settings.max_pixels:,} pixels"
        )


def decode(data: bytes, settings: Settings, *, draft_side: int | None = None) -> DecodedImage:
    """Check limits, then decode the first frame of ``data``.

    ``draft_side`` asks a JPEG decoder for a reduced scale (DCT scaling) that
    keeps both sides at or above that many pixels: the fast mode.
    """
    if len(data) > settings.max_bytes:
        raise ImageTooLarge(
            f"the input is {len(data):,} bytes; the limit is {settings.max_bytes:,} bytes"
        )
    fmt = sniff(data)
    if fmt == "heif" and not heif_available():
        raise UnsupportedImage(
            "HEIC/HEIF needs the optional decoder: pip install 'imghash-service[heif]'"
        )
    image = _open(data, fmt, settings)
    width, height = image.size
    _check_size(image.size, settings)
    frames = _frame_count(image)
    if frames > settings.max_frames:
        raise ImageTooLarge(
            f"the animation has {frames:,} frames; the limit is {settings.max_frames:,} "
            "(only the first frame is hashed)"
        )
    orientation = _orientation(image)
    if draft_side is not None and fmt == "jpeg":
        image.draft(image.mode, (draft_side, draft_side))
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as err:
        raise UnsupportedImage(
            f"the {fmt.upper()} pixel data could not be decoded ({type(err).__name__}); "
            "the file is truncated or corrupt"
        ) from None
    return DecodedImage(image, fmt, width, height, orientation)


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def upright(decoded: DecodedImage) -> Image.Image:
    """The frame turned by its EXIF orientation, as Jimp does on read."""
    method = _TRANSPOSE.get(decoded.orientation)
    return decoded.image if method is None else decoded.image.transpose(method)
