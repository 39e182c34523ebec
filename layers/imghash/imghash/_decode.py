"""Bytes to a decoded first frame: sniffing, limits from the header, then pixels.

The format is sniffed from the leading bytes, never trusted from a name or a
``Content-Type``. Size, pixel count and frame count are checked from the
header before a single pixel is decoded (DESIGN §4).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile

from ._errors import ImageTooLarge, ImghashError, UnsupportedImage
from ._formats import FORMATS, sniff
from ._jpeg import decode_rgb
from ._settings import Settings

__all__ = [
    "DECODER_MODULES",
    "MAX_SIDE",
    "DecodedImage",
    "decode",
    "decoder_failures",
    "heif_available",
    "inspect_header",
    "upright",
]


@dataclass(frozen=True)
class DecodedImage:
    """The first frame of an image, decoded, as stored (orientation not yet applied)."""

    #: The frame as Pillow opened it: loaded, unless ``rgb`` holds the pixels instead.
    image: Image.Image
    format: str
    width: int
    height: int
    #: EXIF orientation tag (1 to 8), 1 when absent or unreadable.
    orientation: int
    #: The pixels of a colour JPEG decoded straight into numpy ((height, width, 3) uint8).
    rgb: npt.NDArray[np.uint8] | None = None

    @property
    def mode(self) -> str:
        """Pillow's mode of the frame (``RGB`` for ``rgb``)."""
        return self.image.mode

    def pillow(self) -> Image.Image:
        """The frame as a loaded Pillow image."""
        return self.image if self.rgb is None else Image.fromarray(self.rgb, "RGB")


@lru_cache(maxsize=1)
def heif_available() -> bool:
    """Whether the optional HEIC/HEIF decoder (pillow-heif) is installed; registers it once."""
    try:
        from pillow_heif import register_heif_opener  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return False
    register_heif_opener()
    return True


#: Where a decoder's code lives: an exception whose innermost frame is in one of these
#: (or in C code they called) came from decoding the input, not from a bug of ours.
DECODER_MODULES = ("PIL", "pillow_heif", "simplejpeg")
_OWN_CODE = str(Path(__file__).resolve().parent)


def _raised_by_decoder(err: BaseException) -> bool:
    """Whether the innermost Python frame of ``err`` belongs to a decoder (not to imghash)."""
    tb = err.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename
    if filename.startswith(_OWN_CODE):
        return False
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module.split(".")[0] in DECODER_MODULES


@contextmanager
def decoder_failures(fmt: str, stage: str) -> Iterator[None]:
    """The one funnel for decoder failures: whatever a decoder raises becomes an ImghashError.

    Decoders (Pillow's plugins, pillow-heif, simplejpeg) raise nearly any exception on
    malformed input: ``AssertionError``, ``TypeError``, ``IndexError``, ``struct.error``...
    Each becomes ``unsupported_image`` naming the format and the stage (header, frames,
    pixels), and running out of memory becomes ``too_large``. An exception raised by
    imghash's own code is a bug and passes through untouched, to become a 500.
    """
    try:
        yield
    except ImghashError:
        raise
    except MemoryError:
        raise ImageTooLarge(
            f"the {fmt.upper()} image needs more memory than is available to decode its "
            f"{stage}; send a smaller image"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow checks each GIF frame's extent as it seeks; the warning is an error only
        # where the caller's warning filters say so.
        raise ImageTooLarge(
            f"a {fmt.upper()} frame declares more than {Image.MAX_IMAGE_PIXELS:,} pixels, "
            "a likely decompression bomb"
        ) from None
    except Exception as err:
        if not _raised_by_decoder(err):
            raise
        raise UnsupportedImage(
            f"the {fmt.upper()} {stage} could not be decoded ({type(err).__name__}); "
            "the file is truncated or corrupt"
        ) from None


def _open(data: bytes, fmt: str) -> ImageFile.ImageFile:
    """Open (header only) with exactly the sniffed format's plugin.

    The plugin is called directly rather than through ``Image.open``, whose bomb guard
    speaks in a warning that only a process-wide (and not thread-safe) warning filter
    could catch; ``_check_size`` applies the same ceiling without warnings.
    """
    Image.preinit()
    if FORMATS[fmt] not in Image.OPEN:
        Image.init()
    factory, accept = Image.OPEN[FORMATS[fmt]]
    accepted = accept is None or accept(data[:16])
    if not accepted or isinstance(accepted, str):  # a str is Pillow's reason for refusing
        raise UnsupportedImage(f"the bytes are not a valid {fmt.upper()} header")
    return factory(io.BytesIO(data), "")


def _frame_count(image: Image.Image) -> int:
    if not getattr(image, "is_animated", False):
        return 1
    return int(getattr(image, "n_frames", 1))


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
        with decoder_failures(fmt, "header"):
            image = _open(prefix, fmt)
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
    bomb = Image.MAX_IMAGE_PIXELS  # Pillow's own ceiling, kept when a caller raised our limit
    if bomb is not None and width * height > bomb:
        raise ImageTooLarge(
            f"the image header declares {width}x{height}, more than {bomb:,} pixels, a likely "
            f"decompression bomb; the limit is {settings.max_pixels:,} pixels"
        )
    if max(width, height) > MAX_SIDE:
        raise ImageTooLarge(
            f"the image is {width}x{height}; no side may be longer than {MAX_SIDE:,} pixels"
        )
    if width * height > settings.max_pixels:
        raise ImageTooLarge(
            f"the image is {width}x{height} = {width * height:,} pixels; "
            f"the limit is {settings.max_pixels:,} pixels"
        )


def decode(
    data: bytes, settings: Settings, *, draft_side: int | None = None, threads: int = 1
) -> DecodedImage:
    """Check limits, then decode the first frame of ``data``.

    ``draft_side`` asks a JPEG decoder for a reduced scale (DCT scaling) that
    keeps both sides at or above that many pixels: the fast mode. Every decoder
    call runs inside :func:`decoder_failures`. ``threads``: how many threads may share
    a JPEG with restart markers (``_jpeg.decode_rgb``).
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
    with decoder_failures(fmt, "header"):
        image = _open(data, fmt)
    width, height = image.size
    _check_size(image.size, settings)
    with decoder_failures(fmt, "frames"):
        frames = _frame_count(image)
    if frames > settings.max_frames:
        raise ImageTooLarge(
            f"the animation has {frames:,} frames; the limit is {settings.max_frames:,} "
            "(only the first frame is hashed)"
        )
    orientation = _orientation(image)
    with decoder_failures(fmt, "pixel data"):
        if draft_side is not None and fmt == "jpeg":
            image.draft(image.mode, (draft_side, draft_side))
        # A colour JPEG straight into numpy; anything simplejpeg leaves, Pillow decodes.
        rgb = decode_rgb(data, image, threads) if fmt == "jpeg" else None
        if rgb is None:
            image.load()
    return DecodedImage(image, fmt, width, height, orientation, rgb)


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
    image = decoded.pillow()
    return image if method is None else image.transpose(method)
