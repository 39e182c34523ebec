"""A sequential JPEG with restart markers, cut into JPEGs of its own that decode in parallel.

Many cameras write restart intervals (a DRI segment): every few MCUs the entropy-coded
data is broken by an RSTn marker, where the decoder resets its DC predictions and its bit
reader. The intervals that make up a run of whole MCU rows are then a JPEG of their own:
the file's header with the frame's height changed, followed by those intervals' data.
libjpeg-turbo decodes one scan on one thread, and the Huffman decode it cannot skip is
most of a JPEG's decode at any scale: the parts, on one thread each, share it.

Each part must decode to exactly the rows the whole file gives there, and must warn where
the whole file warns:

* **Numbering.** libjpeg expects RST0 first in a scan, then RST1 ... RST7, RST0 ...;
  another number is a warning, and a warning is an error to the caller (simplejpeg's
  strict mode). A part after the first therefore starts at an interval whose index is a
  multiple of 8: right after an RST7 marker.
* **Overlap.** Neighbouring parts overlap by a run of rows: each part but the last decodes
  one more run than it keeps, and each but the first one run before what it keeps. Two
  reasons. The marker where a part starts (and whatever lies before it: junk, an EOI, a
  misnumbered marker) is then read as a restart by the part before, as the whole decode
  reads it, so its warnings are not lost. And libjpeg's smooth ("fancy") upsampling of
  vertically subsampled chroma reads the chroma rows above and below (4:2:0 at full
  scale, 4:4:0 at most scales): every kept row's neighbours are decoded from the file's
  own data. The IDCT and the colour conversion work within a block and a pixel.

One warning comes late: libjpeg counts bytes it finds between an interval's last MCU and
its marker, but reports them ("extraneous bytes") only when it next looks for a marker,
which may be past the end of a part. Such bytes are skipped with or without the warning:
the parts then give the pixels the whole file's lenient decode (Pillow's, where the strict
one warns) gives. tests/unit/test_restarts.py checks both, and the parts against whole
decodes for every subsampling Pillow writes, every scale and several interval lengths.

Anything else (progressive or arithmetic coding, a scan without every component, a
restart interval that never lines up with a row, a header larger than a quarter of the
file) is not cut. The caller decodes each part strictly, checks its shape, and decodes the
whole file on any failure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ._threads import MIN_PIXELS_PER_THREAD

__all__ = ["Part", "cut"]

_SOI = b"\xff\xd8"
_EOI = b"\xff\xd9"
_DRI, _SOS = 0xDD, 0xDA
#: Huffman-coded baseline and extended sequential frames: one scan, cut-able.
_SEQUENTIAL = {0xC0, 0xC1}
#: Every other start-of-frame marker (progressive, lossless, arithmetic): not cut.
_OTHER_FRAMES = {0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_RST7 = 0xD7
_ANY_RST = re.compile(rb"\xff[\xd0-\xd7]")
_FILL = re.compile(rb"\xff+")
#: Most parts one file is cut into: each holds a copy of the header.
MAX_PARTS = 8
#: Bytes of coded data searched for RST7 markers at once (numpy temporaries: a few times this).
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Part:
    """One JPEG cut from a file, and which of its decoded rows belong to the whole image."""

    jpeg: bytes
    #: Rows it decodes to at the caller's scale.
    rows: int
    #: Leading rows that another part gives (decoded here only as context).
    skip: int
    #: Rows after ``skip`` that are the whole image's; the parts' ``keep`` add up to its height.
    keep: int


@dataclass(frozen=True)
class _Frame:
    height: int
    width: int
    #: Byte offset of the frame's height field (in SOF).
    height_at: int
    #: Byte offset of the entropy-coded data (after SOS).
    scan_at: int
    mcu_width: int
    mcu_height: int
    restart_interval: int


def _frame(data: bytes) -> _Frame | None:
    """The frame of a sequential (SOF0, SOF1) colour JPEG with restart intervals, or None."""
    if not data.startswith(_SOI):
        return None
    at, restart, frame = 2, 0, None
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill bytes before the marker: skip the run at once
            fill = _FILL.match(data, at)
            assert fill is not None
            at = fill.end() - 1
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if length < 2 or at + 2 + length > len(data):
            return None
        # Only the few segments read here are sliced: APP segments (EXIF, ICC) are skipped.
        if marker == _DRI and length == 4:
            restart = int.from_bytes(data[at + 4 : at + 6], "big")
        elif marker in _OTHER_FRAMES:
            return None
        elif marker in _SEQUENTIAL:
            frame = _sof(data[at + 4 : at + 2 + length], at + 5)
            if frame is None:
                return None
        elif marker == _SOS:
            if frame is None or restart == 0 or length < 3 or data[at + 4] != 3:
                return None  # a scan of fewer components: the others come in later scans
            height_at, height, width, mcu_width, mcu_height = frame
            return _Frame(height, width, height_at, at + 2 + length, mcu_width, mcu_height, restart)
        at += 2 + length
    return None


def _sof(segment: bytes, height_at: int) -> tuple[int, int, int, int, int] | None:
    """(height offset, height, width, MCU width, MCU height) of a SOF segment, or None."""
    if len(segment) != 15 or segment[0] != 8 or segment[5] != 3:
        return None  # 12-bit samples, or not three components
    height = int.from_bytes(segment[1:3], "big")
    width = int.from_bytes(segment[3:5], "big")
    factors = [segment[7 + 3 * c] for c in range(3)]
    across = [f >> 4 for f in factors]
    down = [f & 15 for f in factors]
    if height == 0 or width == 0 or min(across + down) < 1:
        return None  # the height comes in a DNL marker after the scan; or a broken factor
    return height_at, height, width, 8 * max(across), 8 * max(down)


def _eighths(frame: _Frame, size: tuple[int, int]) -> int | None:
    """The scale (in eighths) libjpeg decodes the frame at to give ``size``, if one does."""
    width, height = size
    for eighths in range(1, 9):
        if (-(-frame.width * eighths // 8), -(-frame.height * eighths // 8)) == (width, height):
            return eighths
    return None


def cut(data: bytes, size: tuple[int, int], threads: int) -> list[Part] | None:
    """``data`` cut into JPEGs, one per thread at most, that give its ``size`` decode; or None.

    ``size`` (width, height) is the size the caller decodes at: the frame's, or a reduced
    DCT scale's (fast mode's draft). A part has about ``MIN_PIXELS_PER_THREAD`` of the
    stored pixels or more (its start is rounded to where it may start): the Huffman
    decode, most of the work at any scale, goes with them. None: not cut-able, or too
    small for two parts.
    """
    frame = _frame(data)
    eighths = None if frame is None else _eighths(frame, size)
    if frame is None or eighths is None or frame.scan_at > len(data) // 4:
        return None
    parts = min(threads, MAX_PARTS, frame.width * frame.height // MIN_PIXELS_PER_THREAD)
    if parts < 2:
        return None
    per_row = -(-frame.width // frame.mcu_width)  # MCUs in a row
    mcu_rows = -(-frame.height // frame.mcu_height)
    # MCU rows an interval starts at: multiples of `period`; those where the interval's
    # index is a multiple of 8 too (a part's first): multiples of `step`.
    period = frame.restart_interval // math.gcd(per_row, frame.restart_interval)
    intervals_per_period = period * per_row // frame.restart_interval
    step = period * 8 // math.gcd(8, intervals_per_period)
    overlap = period  # MCU rows (see the module's docstring)
    # Where each part after the first starts decoding (MCU rows, multiples of `step`); it
    # keeps its rows from `overlap` rows further on.
    starts: list[int] = []
    for part in range(1, parts):
        row = round(mcu_rows * part / parts / step) * step
        # Each part decodes more rows than the overlaps: it starts after the last one ends.
        after = starts[-1] + 2 * overlap if starts else 0
        if row > after and row + 2 * overlap < mcu_rows:
            starts.append(row)
    if not starts:
        return None
    located = _starts_at(data, frame, [row * per_row // frame.restart_interval for row in starts])
    if located is None:
        return None
    # Output rows per MCU row at this scale: mcu_height is a multiple of 8.
    scaled = frame.mcu_height * eighths // 8
    out_height = size[1]
    made: list[Part] = []
    begin, begin_at, kept_from = 0, frame.scan_at, 0
    for row, at in [*zip(starts, located, strict=True), (mcu_rows, len(data))]:
        last = row == mcu_rows
        end = row if last else row + 2 * overlap  # the next part keeps from row + overlap
        if last:
            body = data[begin_at:]
        else:
            stop = _marker_after(data, at, 2 * intervals_per_period)
            if stop is None:
                return None
            body = data[begin_at:stop] + _EOI
        height = min(end * frame.mcu_height, frame.height) - begin * frame.mcu_height
        rows = min(end * scaled, out_height) - begin * scaled
        keep_to = out_height if last else (row + overlap) * scaled
        skip = kept_from - begin * scaled
        made.append(_part(data, frame, height, body, rows, skip, keep_to - kept_from))
        begin, begin_at, kept_from = row, at, keep_to
    return made


def _part(
    data: bytes, frame: _Frame, height: int, body: bytes, rows: int, skip: int, keep: int
) -> Part:
    """The file's header with the frame's height set to ``height``, then ``body``."""
    header = data[: frame.height_at] + height.to_bytes(2, "big")
    header += data[frame.height_at + 2 : frame.scan_at]
    return Part(header + body, rows, skip, keep)


def _starts_at(data: bytes, frame: _Frame, intervals: list[int]) -> list[int] | None:
    """Byte offsets where each of ``intervals`` (multiples of 8, ascending) starts: after
    the RST7 marker that ends the interval before it. None: the data has too few."""
    if any(interval % 8 or interval < 8 for interval in intervals):
        return None
    wanted = [interval // 8 for interval in intervals]  # the n-th RST7 (from 1) before each
    found: list[int] = []
    seen = 0
    # In chunks, from the start: the count is what locates a marker, and the temporaries
    # stay small whatever the file holds. Each chunk reads one byte past its end, so a
    # marker across two chunks is seen once, in the first.
    for start in range(frame.scan_at, len(data) - 1, _CHUNK):
        stop = min(start + _CHUNK + 1, len(data))
        coded = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
        # An 0xFF of coded data is followed by 0x00 (stuffed), so 0xFF 0xD7 is a marker.
        candidates = np.flatnonzero(coded[1:] == _RST7)
        markers = candidates[coded[candidates] == 0xFF] + start
        while len(found) < len(wanted) and wanted[len(found)] - seen <= len(markers):
            found.append(int(markers[wanted[len(found)] - seen - 1]) + 2)
        if len(found) == len(wanted):
            return found
        seen += len(markers)
    return None


def _marker_after(data: bytes, at: int, intervals: int) -> int | None:
    """Offset of the RST marker that ends the ``intervals``-th interval from offset ``at``."""
    for count, match in enumerate(_ANY_RST.finditer(data, at), start=1):
        if count == intervals:
            return match.start()
    return None
