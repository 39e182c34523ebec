"""What the library hashes: the kinds of source a caller may pass, read under the limits.

Bytes, a file path and a binary file object give encoded bytes, which ``_decode`` sniffs and
decodes. A ``PIL.Image.Image`` or a numpy array is already pixels: it becomes the decoded frame
directly and goes through the same profile pipeline, so it hashes exactly as the PNG of the
same pixels does. URLs are not fetched here (a path-like string must never reach the network
by surprise): :func:`fetch_url` does that, with the API's checks.

Light on purpose: Pillow and numpy are looked up in ``sys.modules`` (an object cannot be a PIL
image or a numpy array unless its module is loaded), and ``_fetch`` (httpx) is imported only
when a URL is fetched.
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Union, overload

from ._errors import ImageTooLarge, InvalidRequest
from ._settings import Settings, get_settings

if TYPE_CHECKING:
    import numpy.typing as npt
    from PIL import Image

    from ._decode import DecodedImage

__all__ = ["Encoded", "Source", "fetch_url", "image_frame", "read_source"]

#: Sources that hold encoded image bytes (PNG, JPEG...): read, then decoded.
Encoded = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", BinaryIO]
#: Everything the library hashes: encoded bytes, or pixels already in memory.
Source = Union[Encoded, "Image.Image", "npt.NDArray[Any]"]

#: The ``format`` reported for pixels given in memory (an array, or a PIL image not read from
#: a file of a format we know).
IN_MEMORY = "pixels"

_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]+)://", re.IGNORECASE)
_ACCEPTED = "the bytes of an image, a file path, a binary file object, a PIL image or a numpy array"


@overload
def read_source(source: Encoded, settings: Settings) -> bytes: ...
@overload
def read_source(source: Source, settings: Settings) -> bytes | Image.Image: ...
def read_source(source: Source, settings: Settings) -> bytes | Image.Image:
    """The encoded bytes of ``source``, or the image itself when it is pixels already.

    Files are checked against the byte limit before they are read, arrays against the pixel
    limits before any copy (PIL images in :func:`image_frame`). Anything else is
    ``InvalidRequest``, naming its type.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str):
        _refuse_url(source)
        return _read_path(Path(source), settings)
    if isinstance(source, os.PathLike):
        return _read_path(Path(os.fsdecode(os.fspath(source))), settings)
    image = sys.modules.get("PIL.Image")
    if image is not None and isinstance(source, image.Image):
        pil: Image.Image = source
        return pil  # its size is checked by image_frame, before its pixels are loaded
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(source, numpy.ndarray):
        return _array_image(source, settings)
    if isinstance(source, io.TextIOBase):
        raise InvalidRequest("the file object is open in text mode; open the image with 'rb'")
    if callable(getattr(source, "read", None)):
        return _read_file_object(source, settings)
    kind = type(source)
    raise InvalidRequest(f"cannot hash a {kind.__module__}.{kind.__qualname__}; pass {_ACCEPTED}")


def _refuse_url(text: str) -> None:
    match = _URL.match(text)
    if match is None:
        return
    if match["scheme"].lower() in ("http", "https"):
        raise InvalidRequest(
            f"{text[:80]!r} is a URL, and hash_image does not fetch: fetch it with "
            "imghash.fetch_url(url) (public addresses only, under the size and time limits) "
            "and hash the bytes, or run `imghash hash URL`"
        )
    raise InvalidRequest(
        f"{text[:80]!r} is a {match['scheme']} URL; only http and https URLs are fetched "
        "(imghash.fetch_url), and a file path has no scheme"
    )


def _read_path(path: Path, settings: Settings) -> bytes:
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InvalidRequest(f"{path} is a folder, not an image file")
        if not stat.S_ISREG(info.st_mode):
            raise InvalidRequest(f"{path} is not a regular file")
        if info.st_size > settings.max_bytes:
            raise ImageTooLarge(
                f"{path} is {info.st_size:,} bytes; the limit is {settings.max_bytes:,} bytes"
            )
        with path.open("rb") as file:
            data = file.read(settings.max_bytes + 1)  # the file may grow while we read
    except FileNotFoundError:
        raise InvalidRequest(f"no such file: {path}") from None
    except PermissionError:
        raise InvalidRequest(f"cannot read {path}: permission denied") from None
    except OSError as err:
        raise InvalidRequest(f"cannot read {path}: {err.strerror or type(err).__name__}") from None
    except ValueError:  # e.g. a NUL byte in the path
        raise InvalidRequest(f"{str(path)!r} is not a valid file path") from None
    if len(data) > settings.max_bytes:
        raise ImageTooLarge(f"{path} is over the limit of {settings.max_bytes:,} bytes")
    return data


def _read_file_object(file: Any, settings: Settings) -> bytes:
    limit = settings.max_bytes
    try:
        # A real file says its size: refuse an oversized one before reading a byte of it.
        left = os.fstat(file.fileno()).st_size - file.tell()
    except (OSError, ValueError, AttributeError):  # BytesIO, sockets, wrappers: no size
        left = None
    if left is not None and left > limit:
        raise ImageTooLarge(f"the file holds {left:,} bytes; the limit is {limit:,} bytes")
    try:
        data = file.read(limit + 1)
    except (OSError, ValueError) as err:
        raise InvalidRequest(f"cannot read the file object ({type(err).__name__})") from None
    if isinstance(data, str):
        raise InvalidRequest("the file object is open in text mode; open the image with 'rb'")
    if not isinstance(data, bytes | bytearray | memoryview):
        kind = type(data).__name__
        raise InvalidRequest(f"the file object's read() gave a {kind}, not bytes")
    if len(data) > limit:
        raise ImageTooLarge(f"the file object holds more than {limit:,} bytes, the limit")
    return bytes(data)


def _check_pixels(width: int, height: int, what: str, settings: Settings) -> None:
    from ._decode import MAX_SIDE

    if width < 1 or height < 1:
        raise InvalidRequest(f"{what} is empty ({width}x{height} pixels)")
    if max(width, height) > MAX_SIDE:
        raise ImageTooLarge(
            f"{what} is {width}x{height}; no side may be longer than {MAX_SIDE:,} pixels"
        )
    if width * height > settings.max_pixels:
        raise ImageTooLarge(
            f"{what} is {width}x{height} = {width * height:,} pixels; "
            f"the limit is {settings.max_pixels:,} pixels"
        )


#: Channels of an array's last axis, and the Pillow mode Image.fromarray gives them.
_ARRAY_MODES = {2: "L", 3: "RGB", 4: "RGBA"}


def _array_image(array: npt.NDArray[Any], settings: Settings) -> Image.Image:
    """A uint8 array of shape (H, W) (grey), (H, W, 3) (RGB) or (H, W, 4) (RGBA) as a PIL image."""
    from PIL import Image

    shape = tuple(array.shape)
    if array.dtype.name != "uint8":
        raise InvalidRequest(
            f"a numpy array must hold uint8 values (0-255), not {array.dtype.name}; "
            "convert it with array.astype('uint8') if its values are in that range"
        )
    if not (len(shape) == 2 or (len(shape) == 3 and shape[2] in (3, 4))):
        raise InvalidRequest(
            "a numpy array must have the shape (H, W) (grey), (H, W, 3) (RGB) or (H, W, 4) "
            f"(RGBA), not {shape}"
        )
    height, width = shape[0], shape[1]
    _check_pixels(width, height, "the array", settings)  # before any copy of the pixels
    return Image.fromarray(array)


def image_frame(image: Image.Image, settings: Settings) -> DecodedImage:
    """A PIL image (or an array made one) as the decoded frame the profiles take.

    What a PIL image carries is kept: its current frame, and its EXIF orientation tag, which
    the ``jimp`` profile applies as it does for the file the image was opened from (an image
    made in memory, an array, or an image passed through ``ImageOps.exif_transpose`` has
    none, and is taken as upright). Its format is the file's when it was opened from one.
    """
    from ._decode import DecodedImage, _orientation, decoder_failures
    from ._formats import FORMATS

    _check_pixels(image.width, image.height, "the image", settings)
    names = {plugin: name for name, plugin in FORMATS.items()}
    fmt = names.get(image.format or "", IN_MEMORY)
    with decoder_failures(fmt, "pixels"):
        image.load()  # an image opened lazily is decoded here, inside the one funnel
    return DecodedImage(image, fmt, image.width, image.height, _orientation(image))


def fetch_url(url: str, *, settings: Settings | None = None) -> bytes:
    """The bytes of an image at an http(s) URL, fetched as the API fetches them.

    Public addresses only (the connection goes to the address that was checked), at most
    three redirects, each checked again, under the byte limit and the fetch timeout
    (DESIGN §6). Needs the ``web`` extra (httpx). Hash the result with ``hash_image``.
    """
    if not isinstance(url, str):
        raise InvalidRequest(f"a URL is a str, not a {type(url).__name__}")
    try:
        from ._fetch import Fetcher
    except ImportError:
        raise InvalidRequest(
            "fetching URLs needs the web extra: pip install 'imghash-service[web]'"
        ) from None
    return Fetcher(settings or get_settings()).fetch(url)
