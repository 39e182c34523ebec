"""Structure-aware mutations of image files, deterministic for a given seed.

Besides bit flips and truncations, each format's length and size fields are found
(PNG chunk lengths, JPEG segment lengths, GIF sub-block sizes and frame sizes, TIFF
IFD counts and offsets, RIFF and ISO-BMFF box sizes, BMP header fields) so that a
mutation can lie in them, and whole chunks can be dropped or repeated (a PNG without
its PLTE, a GIF cut in its second frame, an APNG or TIFF claiming more frames).
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Field", "mutate"]


@dataclass(frozen=True)
class Field:
    """An integer field of a file: where, how wide, which byte order."""

    offset: int
    size: int
    order: str  # "big" or "little"


Span = tuple[int, int]


def _png(data: bytes) -> tuple[list[Field], list[Span]]:
    fields, spans, pos = [], [], 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        fields.append(Field(pos, 4, "big"))
        kind = data[pos + 4 : pos + 8]
        if kind == b"IHDR":
            fields += [Field(pos + 8, 4, "big"), Field(pos + 12, 4, "big")]
            fields += [Field(pos + 16 + i, 1, "big") for i in range(3)]
        if kind == b"acTL":  # APNG frame count and plays
            fields += [Field(pos + 8, 4, "big"), Field(pos + 12, 4, "big")]
        if kind == b"fcTL":
            fields += [Field(pos + 8 + i, 4, "big") for i in range(0, 20, 4)]
        end = min(len(data), pos + 12 + length)
        spans.append((pos, end))
        pos = end
    return fields, spans


def _jpeg(data: bytes) -> tuple[list[Field], list[Span]]:
    fields, spans, pos = [], [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xD8, 0xD9) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        fields.append(Field(pos + 2, 2, "big"))
        if marker in (0xC0, 0xC1, 0xC2):  # frame header: precision, height, width, components
            fields += [Field(pos + 4, 1, "big"), Field(pos + 5, 2, "big"), Field(pos + 7, 2, "big")]
            fields.append(Field(pos + 9, 1, "big"))
        if marker == 0xDA:  # scan: entropy-coded data follows
            spans.append((pos, len(data) - 2))
            break
        spans.append((pos, min(len(data), pos + 2 + length)))
        pos += 2 + length
    return fields, spans


def _gif(data: bytes) -> tuple[list[Field], list[Span]]:
    fields = [Field(6, 2, "little"), Field(8, 2, "little"), Field(10, 1, "little")]
    spans: list[Span] = []
    pos = 13
    if len(data) > 10 and data[10] & 0x80:
        pos += 3 << ((data[10] & 7) + 1)
    while pos < len(data):
        start, kind = pos, data[pos]
        if kind == 0x21 and pos + 2 < len(data):
            pos += 2
        elif kind == 0x2C and pos + 10 < len(data):
            fields += [Field(pos + 1 + i, 2, "little") for i in range(0, 8, 2)]
            fields.append(Field(pos + 9, 1, "little"))
            flags = data[pos + 9]
            pos += 10 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
            if pos < len(data):
                fields.append(Field(pos, 1, "little"))  # LZW minimum code size
            pos += 1
        else:
            break
        while pos < len(data) and data[pos] != 0:  # sub-blocks, each led by its size
            fields.append(Field(pos, 1, "little"))
            pos += 1 + data[pos]
        pos += 1
        spans.append((start, min(pos, len(data))))
    return fields, spans


def _tiff(data: bytes) -> tuple[list[Field], list[Span]]:
    order = "little" if data[:2] == b"II" else "big"
    fmt = "<" if order == "little" else ">"
    fields = [Field(4, 4, order)]
    spans: list[Span] = []
    seen: set[int] = set()
    (ifd,) = struct.unpack(fmt + "I", data[4:8])
    while 8 <= ifd < len(data) - 2 and ifd not in seen:
        seen.add(ifd)
        (count,) = struct.unpack(fmt + "H", data[ifd : ifd + 2])
        fields.append(Field(ifd, 2, order))
        end = ifd + 2 + 12 * count
        if end + 4 > len(data):
            break
        for entry in range(ifd + 2, end, 12):
            # type, count and value-or-offset of every entry
            fields += [Field(entry + 2, 2, order), Field(entry + 4, 4, order)]
            fields.append(Field(entry + 8, 4, order))
            spans.append((entry, entry + 12))
        fields.append(Field(end, 4, order))
        (ifd,) = struct.unpack(fmt + "I", data[end : end + 4])
    return fields, spans


def _riff(data: bytes) -> tuple[list[Field], list[Span]]:
    fields, spans, pos = [Field(4, 4, "little")], [], 12
    while pos + 8 <= len(data):
        fields.append(Field(pos + 4, 4, "little"))
        if data[pos : pos + 4] in (b"VP8X", b"ANIM", b"ANMF"):
            fields += [Field(pos + 8 + i, 4, "little") for i in range(0, 12, 4)]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = min(len(data), pos + 8 + size + (size & 1))
        spans.append((pos, end))
        pos = end
    return fields, spans


def _bmff(data: bytes) -> tuple[list[Field], list[Span]]:
    fields, spans, pos = [], [], 0
    while pos + 8 <= len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        fields.append(Field(pos, 4, "big"))
        end = len(data) if size < 8 else min(len(data), pos + size)
        spans.append((pos, end))
        pos = end
    return fields, spans


def _bmp(data: bytes) -> tuple[list[Field], list[Span]]:
    layout = [(2, 4), (10, 4), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2), (30, 4), (34, 4)]
    return [Field(o, s, "little") for o, s in [*layout, (46, 4)] if o + s <= len(data)], []


_PARSERS: dict[bytes, Callable[[bytes], tuple[list[Field], list[Span]]]] = {
    b"\x89PNG": _png,
    b"\xff\xd8\xff": _jpeg,
    b"GIF8": _gif,
    b"II*\x00": _tiff,
    b"MM\x00*": _tiff,
    b"RIFF": _riff,
    b"BM": _bmp,
}


def _structure(data: bytes) -> tuple[list[Field], list[Span]]:
    for magic, parse in _PARSERS.items():
        if data.startswith(magic):
            try:
                return parse(data)
            except (struct.error, IndexError):
                return [], []
    if data[4:8] == b"ftyp":
        return _bmff(data)
    return [], []


def _lie(rng: random.Random, old: int, size: int) -> int:
    top = (1 << (8 * size)) - 1
    return (
        rng.choice(
            [
                0,
                1,
                old + 1,
                old - 1,
                old * 2,
                old // 2,
                top,
                top // 2,
                top // 2 + 1,
                255,
                256,
                65535,
                65536,
                rng.randrange(top + 1),
            ]
        )
        & top
    )


def _fix_png_crcs(data: bytearray) -> None:
    """Recompute every PNG chunk's CRC, so that a lie reaches the decoder."""
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        end = pos + 8 + length
        if end + 4 > len(data):
            return
        data[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(data[pos + 4 : end])))
        pos = end + 4


def mutate(data: bytes, seed: int) -> bytes:
    """One mutant of ``data``: 1 to 3 mutations chosen by ``seed`` (same seed, same bytes)."""
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3))):
        fields, spans = _structure(bytes(out))
        op = rng.choice(("flip", "byte", "truncate", "lie", "lie", "drop", "repeat"))
        if op == "lie" and fields:
            field = rng.choice(fields)
            old = int.from_bytes(out[field.offset : field.offset + field.size], field.order)
            new = _lie(rng, old, field.size)
            out[field.offset : field.offset + field.size] = new.to_bytes(field.size, field.order)
        elif op in ("drop", "repeat") and spans:
            start, end = rng.choice(spans)
            piece = bytes(out[start:end])
            out[start:end] = b"" if op == "drop" else piece * rng.choice((2, 3, 50))
        elif op == "truncate" and len(out) > 1:
            del out[rng.randrange(1, len(out)) :]
        elif op == "byte" and out:
            out[rng.randrange(len(out))] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        elif out:
            for _ in range(rng.randint(1, 8)):
                position = rng.randrange(len(out) * 8)
                out[position // 8] ^= 1 << (position % 8)
    if out.startswith(b"\x89PNG") and rng.random() < 0.7:
        _fix_png_crcs(out)
    return bytes(out)
