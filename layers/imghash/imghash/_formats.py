"""Image formats: which we accept, and naming the format of bytes from their first bytes.

Light on purpose (no Pillow): the API's meta route and input checks use it.
"""

from __future__ import annotations

from ._errors import UnsupportedImage

__all__ = ["ALLOWED", "FORMATS", "sniff"]

#: Formats we accept, by sniffed name, with Pillow's plugin name.
FORMATS: dict[str, str] = {
    "png": "PNG",
    "jpeg": "JPEG",
    "gif": "GIF",
    "bmp": "BMP",
    "tiff": "TIFF",
    "webp": "WEBP",
    "heif": "HEIF",
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"heif"}

# Recognised but refused, so the message can say what the bytes are.
_NOT_IMAGES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"<svg", "an SVG (vector) image"),
    (b"<?xml", "an XML document"),
    (b"<!doctype html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"PK\x03\x04", "a ZIP archive"),
)

ALLOWED = "PNG, JPEG, GIF, BMP, TIFF, WebP or HEIC/HEIF"


def sniff(data: bytes) -> str:
    """Name the image format of ``data`` from its magic bytes, or raise UnsupportedImage."""
    if not data:
        raise UnsupportedImage(f"the input is empty; send the bytes of a {ALLOWED} image")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"BM") and len(data) >= 26:
        return "bmp"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heif"
    head = data[:256].lstrip().lower()
    for magic, what in _NOT_IMAGES:
        if head.startswith(magic.lower()):
            raise UnsupportedImage(f"the input is {what}, not a raster image; send {ALLOWED}")
    raise UnsupportedImage(f"the input is not a recognised image format; send {ALLOWED}")
