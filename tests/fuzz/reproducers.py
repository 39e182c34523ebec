"""The malformed files that once escaped the decoders as non-imghash exceptions, as bytes
generated here (issue 10: each gave a 500, a CLI traceback, or a lost S3 event)."""

from __future__ import annotations

import io
import struct
import zlib

from tests.helpers import encode, photo_like

__all__ = ["REPRODUCERS"]


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    out = b"\x89PNG\r\n\x1a\n"
    for kind, body in chunks:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        out += struct.pack(">I", len(body)) + kind + body + crc
    return out


def png_without_plte() -> bytes:
    """A palette PNG whose PLTE chunk was removed (CRCs intact): Pillow asserts."""
    palette = encode(photo_like(48, 36).convert("P"), "PNG")
    return _png([c for c in _png_chunks(palette) if c[0] != b"PLTE"])


def _tiff_entries(data: bytes) -> list[tuple[int, int, int]]:
    """(IFD index, tag, offset of the entry) of every entry of a little-endian TIFF."""
    found = []
    (ifd,) = struct.unpack("<I", data[4:8])
    page = 0
    while ifd:
        (count,) = struct.unpack("<H", data[ifd : ifd + 2])
        for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
            found.append((page, struct.unpack("<H", data[entry : entry + 2])[0], entry))
        (ifd,) = struct.unpack("<I", data[ifd + 2 + 12 * count : ifd + 6 + 12 * count])
        page += 1
    return found


def tiff_second_page_without_width() -> bytes:
    """A two-page TIFF whose second IFD lost its ImageWidth: ``TypeError: Missing dimensions``
    when the frames are counted."""
    photo = photo_like(48, 36)
    data = bytearray(encode(photo, "TIFF", save_all=True, append_images=[photo.rotate(90)]))
    for page, tag, entry in _tiff_entries(bytes(data)):
        if page == 1 and tag == 256:
            data[entry : entry + 2] = struct.pack("<H", 0xFFF0)  # an unknown tag instead
    return bytes(data)


def tiff_rational_strip_offset() -> bytes:
    """A TIFF whose StripOffsets entry says RATIONAL: Pillow seeks to an ``IFDRational``
    (``TypeError``) when it loads the pixels."""
    data = bytearray(encode(photo_like(48, 36).convert("CMYK"), "TIFF"))
    for _, tag, entry in _tiff_entries(bytes(data)):
        if tag == 273:
            data[entry + 2 : entry + 4] = struct.pack("<H", 5)
    return bytes(data)


def gif_cut_in_second_frame() -> bytes:
    """An animated GIF truncated inside its second frame: ``IndexError`` from
    ``is_animated``."""
    frames = [photo_like(48, 36, seed=i).convert("P") for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    data = buffer.getvalue()
    second = data.index(b"\x2c", data.index(b"\x21\xf9", data.index(b"\x21\xf9") + 1))
    return data[: second + 10 + 3]  # the second image descriptor, then the data stops


REPRODUCERS = {
    "png_without_plte": ("png", png_without_plte),
    "tiff_second_page_without_width": ("tiff", tiff_second_page_without_width),
    "tiff_rational_strip_offset": ("tiff", tiff_rational_strip_offset),
    "gif_cut_in_second_frame": ("gif", gif_cut_in_second_frame),
}
