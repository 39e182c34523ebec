"""A JPEG with restart markers, cut into parts decoded on threads, gives the whole file's pixels.

The oracle is libjpeg itself: the whole file decoded at the same scale in one call. The
files are written by Pillow (libjpeg) with restart intervals of several lengths, for each
chroma subsampling it writes, and decoded at every DCT scale libjpeg offers.
"""

from __future__ import annotations

import io
import re
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

import imghash
from imghash import _jpeg, _restarts
from imghash._decode import decode
from imghash._hashing import FAST_MIN_SIDE
from imghash._settings import Settings
from imghash._threads import MIN_PIXELS_PER_THREAD
from tests.helpers import encode, need, photo_like

# Tall enough for a part to start after a run of 7-MCU intervals lines up with a row
# whose interval's index is a multiple of 8 (every 56 MCU rows at 4:2:0), and overlap.
WIDTH, HEIGHT = 1200, 2000
#: Pixels a part needs in these tests (the package's is 1 MP): room for four parts here.
PART_PIXELS = 1 << 18
#: Pillow's subsampling options: 4:4:4 and 4:2:2 have no vertical subsampling.
SUBSAMPLINGS = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}
#: Restart intervals: in MCUs (one that divides a row, one that does not), and in rows.
RESTARTS = {
    "1 MCU": {"restart_marker_blocks": 1},
    "4 MCUs": {"restart_marker_blocks": 4},
    "7 MCUs": {"restart_marker_blocks": 7},
    "1 row": {"restart_marker_rows": 1},
    "2 rows": {"restart_marker_rows": 2},
}


def _decoder() -> ModuleType:
    decoder = _jpeg.simplejpeg_module()
    need(decoder is not None, "simplejpeg is not installed")
    assert decoder is not None
    return decoder


def _picture(width: int = WIDTH, height: int = HEIGHT) -> Image.Image:
    """A photo-like picture with fine noise, so that every block has AC coefficients."""
    smooth = np.asarray(photo_like(width, height, seed=3), dtype=np.int16)
    noise = np.random.default_rng(3).integers(-24, 25, smooth.shape, dtype=np.int16)
    return Image.fromarray(np.clip(smooth + noise, 0, 255).astype(np.uint8), "RGB")


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    return _picture()


def _scaled(eighths: int) -> tuple[int, int]:
    return -(-WIDTH * eighths // 8), -(-HEIGHT * eighths // 8)


def _whole(decoder: ModuleType, data: bytes, size: tuple[int, int]) -> np.ndarray:
    pixels = decoder.decode_jpeg(
        data, colorspace="RGB", min_width=size[0], min_height=size[1], strict=True
    )
    assert pixels.shape == (size[1], size[0], 3)
    return pixels


@pytest.mark.parametrize("restart", RESTARTS.values(), ids=RESTARTS.keys())
@pytest.mark.parametrize("subsampling", SUBSAMPLINGS.values(), ids=SUBSAMPLINGS.keys())
def test_the_parts_give_the_whole_files_pixels_at_every_scale(
    picture: Image.Image, subsampling: int, restart: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    decoder = _decoder()
    monkeypatch.setattr(_restarts, "MIN_PIXELS_PER_THREAD", PART_PIXELS)
    data = encode(picture, "JPEG", quality=85, subsampling=subsampling, **restart)
    for eighths in range(1, 9):
        size = _scaled(eighths)
        whole = _whole(decoder, data, size)
        for threads in (2, 4):
            parts = _restarts.cut(data, size, threads)
            assert parts is not None, (eighths, threads)
            assert 2 <= len(parts) <= threads, (eighths, threads)
            assert sum(part.keep for part in parts) == size[1]
            assert parts[0].skip == 0
            assert all(part.skip > 0 for part in parts[1:])  # the parts overlap
            pixels = _jpeg._decode_parts(decoder, parts, *size)
            assert pixels is not None, (eighths, threads)  # decoded in parts, not whole
            np.testing.assert_array_equal(pixels, whole, f"1/{8 / eighths:g}, {threads}")


def test_hashes_are_the_same_on_one_thread_and_on_several(
    picture: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    _decoder()
    monkeypatch.setattr(_restarts, "MIN_PIXELS_PER_THREAD", PART_PIXELS)
    data = encode(picture, "JPEG", quality=85, subsampling=2, restart_marker_rows=1)
    assert _restarts.cut(data, picture.size, 2) is not None
    for profile in ("jimp", "imagehash"):
        for fast in (False, True):
            one, two = (
                imghash.hash_image(
                    data,
                    algorithms="all,pdq",
                    profile=profile,
                    fast=fast,
                    settings=Settings(threads=n),
                )
                for n in (1, 2)
            )
            assert one.hashes == two.hashes, (profile, fast)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: encode(p, "JPEG", quality=85),
        lambda p: encode(p, "JPEG", quality=85, progressive=True, restart_marker_rows=1),
        lambda p: encode(p.convert("L"), "JPEG", quality=85, restart_marker_rows=1),
        lambda p: encode(p.resize((1400, 700)), "JPEG", quality=85, restart_marker_rows=1),
    ],
    ids=["no restart markers", "progressive", "grey", "under two threads' pixels"],
)
def test_what_is_not_cut(make: object) -> None:
    assert callable(make)
    picture = _picture(1600, 1400)  # 2.1 MP: two parts' worth
    assert (1400 * 700) // MIN_PIXELS_PER_THREAD < 2 <= (1600 * 1400) // MIN_PIXELS_PER_THREAD
    assert _restarts.cut(encode(picture, "JPEG", restart_marker_rows=1), picture.size, 4)
    data = make(picture)
    with Image.open(io.BytesIO(data)) as opened:
        size = opened.size
    assert _restarts.cut(data, size, 4) is None


def _boundaries(data: bytes, size: tuple[int, int], threads: int) -> list[int]:
    """Offsets of the RST7 markers where the parts after the first start."""
    parts = _restarts.cut(data, size, threads)
    assert parts is not None
    frame = _restarts._frame(data)
    assert frame is not None
    header = frame.scan_at  # every part has the file's header, its height changed in place
    found = [data.index(part.jpeg[header : header + 64], header) - 2 for part in parts[1:]]
    assert all(data[at : at + 2] == b"\xff\xd7" for at in found)
    return found


def _pixels_or_error(data: bytes, threads: int, fast: bool) -> object:
    """What hashing reads of ``data``: its decoded pixels, or the error it gets."""
    try:
        decoded = decode(
            data, Settings(), draft_side=FAST_MIN_SIDE if fast else None, threads=threads
        )
        return np.asarray(decoded.pillow()).tobytes()
    except imghash.ImghashError as error:
        return type(error), str(error)


#: What is put in the data just before a marker: each makes libjpeg warn decoding the file
#: whole (strictly), and Pillow then decides what the file gives.
INSERTED = {
    "an EOI": b"\xff\xd9",
    "a comment": b"\xff\xfe\x00\x04ab",
    "a junk byte": b"\x00",
    "junk bytes": b"\x12\x34\x56",
}


@pytest.mark.parametrize("inserted", INSERTED.values(), ids=INSERTED.keys())
@pytest.mark.parametrize("subsampling", [0, 2], ids=["4:4:4", "4:2:0"])
def test_damage_at_or_near_where_a_part_starts_is_seen_as_decoding_whole_sees_it(
    picture: Image.Image, subsampling: int, inserted: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Put before the marker where a part starts (read as a restart only by the part before
    it), or a few markers before or after: every thread count gives the pixels (or the
    error) one thread gives, in exact mode and at fast mode's 1/8."""
    _decoder()
    monkeypatch.setattr(_restarts, "MIN_PIXELS_PER_THREAD", PART_PIXELS)
    data = encode(picture, "JPEG", quality=85, subsampling=subsampling, restart_marker_rows=1)
    markers = [m.start() for m in re.finditer(rb"\xff[\xd0-\xd7]", data)]
    places = {markers[0], markers[-1]}
    for at in _boundaries(data, picture.size, 4):
        index = markers.index(at)
        places |= {markers[i] for i in (index - 1, index, index + 1)}
    for at in sorted(places):
        damaged = data[:at] + inserted + data[at:]
        for fast in (False, True):
            one = _pixels_or_error(damaged, 1, fast)
            for threads in (2, 4):
                assert _pixels_or_error(damaged, threads, fast) == one, (at, fast, threads)


def _damaged(data: bytes, where: float) -> bytes:
    """``data`` with the RST marker after ``where`` (a share of the file) renumbered."""
    at = len(data) * 3 // 4 if where > 0.5 else len(data) // 4
    while not (data[at] == 0xFF and 0xD0 <= data[at + 1] <= 0xD7):
        at += 1
    wrong = 0xD0 + (data[at + 1] - 0xD0 + 3) % 8
    return data[: at + 1] + bytes([wrong]) + data[at + 2 :]


@pytest.mark.parametrize(
    ("damage", "cut"),
    [
        (lambda d: _damaged(d, 0.25), True),
        (lambda d: _damaged(d, 0.75), True),
        (lambda d: d[: len(d) * 3 // 4], True),
        (lambda d: d[: len(d) // 4], False),  # before where the second part would start
    ],
    ids=["marker misnumbered in the first part", "in the second", "cut short", "cut very short"],
)
def test_a_damaged_file_is_decoded_whole_which_decides(
    picture: Image.Image, damage: object, cut: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libjpeg warns of each damage decoding the whole file: the parts must not hide it."""
    decoder = _decoder()
    monkeypatch.setattr(_restarts, "MIN_PIXELS_PER_THREAD", PART_PIXELS)
    assert callable(damage)
    data = damage(encode(picture, "JPEG", quality=85, subsampling=2, restart_marker_rows=1))
    with pytest.raises(ValueError, match=r"(?i)corrupt|premature|restart|marker"):
        decoder.decode_jpeg(data, colorspace="RGB", strict=True)
    assert (_restarts.cut(data, picture.size, 2) is not None) == cut
    assert _jpeg.decode_at(data, picture.size, 2) is None  # Pillow then decides
    assert _outcome(data, threads=2) == _outcome(data, threads=1)


def _outcome(data: bytes, threads: int) -> object:
    """The hashes of ``data``, or the error it gets."""
    try:
        return imghash.hash_image(data, settings=Settings(threads=threads)).hashes
    except imghash.ImghashError as error:
        return type(error), str(error)
