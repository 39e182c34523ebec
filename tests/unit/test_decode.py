"""Sniffing, limits checked from the header, and every pixel mode the decoder meets."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

import imghash
from imghash import ImageTooLarge, Settings, UnsupportedImage
from imghash._decode import decode
from imghash._formats import sniff
from tests.helpers import encode, photo_like


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height, followed by a tiny broken IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 10))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("PNG", "png"),
        ("JPEG", "jpeg"),
        ("GIF", "gif"),
        ("BMP", "bmp"),
        ("TIFF", "tiff"),
        ("WEBP", "webp"),
    ],
)
def test_every_format_is_sniffed_and_hashed(fmt: str, name: str) -> None:
    data = encode(photo_like(), fmt)
    assert sniff(data) == name
    result = imghash.hash_image(data)
    assert result.format == name
    assert (result.width, result.height) == (96, 64)
    assert set(result.hashes) == {"ahash", "dhash", "phash"}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"%PDF-1.4\n", "PDF"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
        (b"  <!DOCTYPE html><html></html>", "HTML"),
        (b"\x00\x01\x02garbage", "not a recognised image"),
    ],
)
def test_non_images_are_refused_by_name(data: bytes, fragment: str) -> None:
    with pytest.raises(UnsupportedImage, match=fragment) as info:
        imghash.hash_image(data)
    assert info.value.code == "unsupported_image"
    assert info.value.http_status == 415


def test_format_comes_from_the_bytes_not_the_name(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "really_a_png.jpg"  # type: ignore[operator]
    path.write_bytes(encode(photo_like(), "PNG"))
    assert imghash.hash_image(path).format == "png"


def test_byte_limit_is_checked_first() -> None:
    data = encode(photo_like(), "PNG")
    with pytest.raises(ImageTooLarge, match="limit is 100 bytes") as info:
        imghash.hash_image(data, settings=Settings(max_bytes=100))
    assert info.value.http_status == 413


def test_file_size_is_checked_before_reading(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "big.png"  # type: ignore[operator]
    path.write_bytes(encode(photo_like(), "PNG"))
    with pytest.raises(ImageTooLarge, match="limit is 100 bytes"):
        imghash.hash_image(path, settings=Settings(max_bytes=100))


def test_pixel_limit_is_checked_from_the_header() -> None:
    # The IDAT is broken: reaching the pixels would be an UnsupportedImage instead.
    with pytest.raises(
        ImageTooLarge,
        match=r"8000x8000 = 64,000,000 pixels; the limit is 50,000,000",
    ):
        decode(png_header_only(8000, 8000), Settings())
    with pytest.raises(ImageTooLarge, match="limit is 1,000 pixels"):
        decode(encode(photo_like(), "PNG"), Settings(max_pixels=1000))


def test_pillow_bomb_guard_becomes_too_large() -> None:
    with pytest.raises(ImageTooLarge, match="decompression bomb"):
        decode(png_header_only(100_000, 100_000), Settings(max_pixels=10**12))


def animated_gif(frames: int) -> bytes:
    images = [Image.new("L", (8, 8), i * 40 % 256) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def test_frame_limit() -> None:
    data = animated_gif(5)
    assert decode(data, Settings(max_frames=5)).image.size == (8, 8)
    with pytest.raises(ImageTooLarge, match="5 frames; the limit is 4"):
        decode(data, Settings(max_frames=4))


def test_truncated_data_is_unsupported() -> None:
    data = encode(photo_like(200, 200), "JPEG")
    with pytest.raises(UnsupportedImage, match="truncated or corrupt"):
        imghash.hash_image(data[: len(data) // 2])


def mode_image(mode: str) -> Image.Image:
    base = photo_like(64, 48)
    if mode == "I;16":
        wide = np.asarray(base.convert("L")).astype(np.uint16) * 257 + 100
        return Image.fromarray(wide)
    if mode == "PA-transparent":
        image = base.convert("P")
        image.info["transparency"] = 0
        return image
    return base.convert(mode)


@pytest.mark.parametrize(
    "mode",
    ["1", "L", "LA", "P", "PA-transparent", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr"],
)
@pytest.mark.parametrize("profile", ["jimp", "imagehash"])
def test_every_mode_hashes(mode: str, profile: str) -> None:
    image = mode_image(mode)
    fmt = "TIFF" if image.mode in ("CMYK", "I", "F", "YCbCr", "I;16") else "PNG"
    if image.mode == "YCbCr":
        fmt = "JPEG"
    result = imghash.hash_image(encode(image, fmt), profile=profile)
    assert set(result.hashes) == {"ahash", "dhash", "phash"}


def test_sixteen_bit_is_scaled_not_clipped() -> None:
    grey8 = np.asarray(photo_like(64, 48).convert("L"))
    wide = Image.fromarray(grey8.astype(np.uint16) * 257)  # v * 257 >> 8 == v
    assert (
        imghash.hash_image(encode(wide, "PNG")).hashes
        == imghash.hash_image(encode(Image.fromarray(grey8, "L"), "PNG")).hashes
    )


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_for_jimp(orientation: int) -> None:
    upright = photo_like(80, 60)
    inverse = {
        1: None,
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }[orientation]
    stored = upright if inverse is None else upright.transpose(inverse)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(stored, "PNG", exif=exif.tobytes())
    turned = imghash.hash_image(data)
    assert (turned.width, turned.height) == (80, 60)
    assert turned.hashes == imghash.hash_image(encode(upright, "PNG")).hashes
    # imagehash ignores orientation, as the library does
    assert imghash.hash_image(data, profile="imagehash").width == stored.width


def test_flat_image_is_low_information(make_image: Callable[..., bytes]) -> None:
    flat = encode(Image.new("RGB", (50, 40), (120, 130, 140)), "PNG")
    assert imghash.hash_image(flat).low_information
    assert not imghash.hash_image(make_image()).low_information


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(imghash.InvalidRequest, match="unknown profile 'opencv'"):
        imghash.hash_image(b"", profile="opencv")


def test_missing_file_and_folder(tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(imghash.InvalidRequest, match="no such file"):
        imghash.hash_image(tmp_path / "nope.png")  # type: ignore[operator]
    with pytest.raises(imghash.InvalidRequest, match="folder"):
        imghash.hash_image(tmp_path)  # type: ignore[arg-type]


def test_an_extreme_side_is_refused_from_the_header() -> None:
    # 70,000 x 1 is far under the pixel limit, but no side may pass 65,535 pixels.
    with pytest.raises(ImageTooLarge, match="no side may be longer than 65,535"):
        decode(png_header_only(70_000, 1), Settings())


def test_special_files_are_refused(tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(imghash.InvalidRequest, match="not a regular file"):
        imghash.hash_image("/dev/zero")
