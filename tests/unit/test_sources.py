"""What hash_image accepts: bytes, paths, binary file objects, PIL images and numpy arrays.

Pixels given in memory go through the same profile pipeline as decoded bytes, so each must
hash exactly as the PNG of the same pixels does (the PNG path is the oracle here); anything
else is a clear ``invalid_request`` naming its type, and the limits still apply.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps

import imghash
from imghash import ImageTooLarge, InvalidRequest, Settings, UnsupportedImage
from tests.helpers import encode, photo_like
from tests.servers import send_bytes, upstream

PROFILES = ["jimp", "imagehash"]


def png_hashes(image: Image.Image, profile: str) -> dict[str, str]:
    return imghash.hash_image(encode(image, "PNG"), profile=profile).hex()


def rgba_picture() -> Image.Image:
    picture = photo_like(90, 70, seed=3).convert("RGBA")
    alpha = np.full((70, 90), 255, dtype=np.uint8)
    alpha[10:40, 20:60] = 0  # transparent: Jimp's resizer leaves it out of the sums
    alpha[45:60, :] = 128
    picture.putalpha(Image.fromarray(alpha))
    return picture


def modes() -> dict[str, Image.Image]:
    rgb = photo_like(90, 70, seed=3)
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
    keyed = palette.copy()
    keyed.info["transparency"] = 0
    grey16 = Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)
    return {
        "RGB": rgb,
        "RGBA": rgba_picture(),
        "L": rgb.convert("L"),
        "LA": rgba_picture().convert("LA"),
        "P": palette,
        "P+transparency": keyed,
        "1": rgb.convert("1"),
        "I;16": grey16,
    }


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("mode", list(modes()))
def test_a_pil_image_hashes_as_its_png(mode: str, profile: str) -> None:
    image = modes()[mode]
    assert imghash.hash_image(image, profile=profile).hex() == png_hashes(image, profile)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("channels", [None, 3, 4])
def test_a_numpy_array_hashes_as_its_png(channels: int | None, profile: str) -> None:
    picture = rgba_picture() if channels == 4 else photo_like(90, 70, seed=4)
    array = np.asarray(picture)
    if channels is None:
        array = np.asarray(picture.convert("L"))
    assert array.dtype == np.uint8
    assert array.ndim == (2 if channels is None else 3)
    result = imghash.hash_image(array, profile=profile)
    assert result.hex() == png_hashes(Image.fromarray(array), profile)
    assert (result.width, result.height, result.format) == (90, 70, "pixels")


def test_a_strided_array_is_read_as_it_looks() -> None:
    array = np.asarray(photo_like(90, 70, seed=5))
    mirrored = array[:, ::-1]  # a view with a negative stride
    assert not mirrored.flags.c_contiguous
    expected = png_hashes(Image.fromarray(np.ascontiguousarray(mirrored)), "jimp")
    assert imghash.hash_image(mirrored).hex() == expected


def test_bytes_paths_and_file_objects_agree(tmp_path: Path) -> None:
    data = encode(photo_like(120, 80, seed=6), "JPEG", quality=85)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    expected = imghash.hash_image(data).hex()
    with path.open("rb") as file:
        from_file = imghash.hash_image(file).hex()
    sources: list[Any] = [bytearray(data), memoryview(data), str(path), path, io.BytesIO(data)]
    for source in sources:
        assert imghash.hash_image(source).hex() == expected, type(source)
    assert from_file == expected


def orientation_six(tmp_path: Path) -> bytes:
    """A JPEG whose EXIF says: turn me 90 degrees clockwise to view (orientation 6)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(photo_like(120, 80, seed=7), "JPEG", quality=90, exif=exif)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_pil_image_opened_from_a_file_hashes_as_the_file(tmp_path: Path, profile: str) -> None:
    data = orientation_six(tmp_path)
    opened = Image.open(io.BytesIO(data))  # lazy: not decoded yet
    result = imghash.hash_image(opened, profile=profile)
    from_bytes = imghash.hash_image(data, profile=profile)
    assert result.hex() == from_bytes.hex()
    assert (result.width, result.height, result.format) == (
        from_bytes.width,
        from_bytes.height,
        "jpeg",
    )
    assert result.fast is False


def test_an_upright_pil_image_is_not_turned_again(tmp_path: Path) -> None:
    data = orientation_six(tmp_path)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert upright is not None
    assert upright.size == (80, 120)  # turned, and the tag dropped
    assert imghash.hash_image(upright).hex() == imghash.hash_image(data).hex()  # jimp turns too
    assert imghash.hash_image(upright).hex() == png_hashes(upright, "jimp")


def test_a_pil_image_of_a_truncated_file_is_unsupported() -> None:
    data = encode(photo_like(200, 150, seed=8), "PNG")
    opened = Image.open(io.BytesIO(data[: len(data) // 2]))
    with pytest.raises(UnsupportedImage, match="truncated or corrupt"):
        imghash.hash_image(opened)


SMALL = Settings(max_pixels=5_000, max_bytes=2_000)


def test_the_pixel_limit_applies_to_pil_images_and_arrays() -> None:
    with pytest.raises(ImageTooLarge, match="the limit is 5,000 pixels"):
        imghash.hash_image(Image.new("L", (100, 100)), settings=SMALL)
    with pytest.raises(ImageTooLarge, match="the limit is 5,000 pixels"):
        imghash.hash_image(np.zeros((100, 100), dtype=np.uint8), settings=SMALL)


def test_an_array_is_refused_before_its_pixels_are_copied() -> None:
    # 3.6e9 pixels held in one byte of memory: a copy would take 3.6 GB before any check.
    huge = np.broadcast_to(np.uint8(0), (60_000, 60_000))
    with pytest.raises(ImageTooLarge, match="3,600,000,000 pixels"):
        imghash.hash_image(huge)
    with pytest.raises(ImageTooLarge, match="no side may be longer than 65,535"):
        imghash.hash_image(np.broadcast_to(np.uint8(0), (1, 70_000)))


def test_a_file_object_over_the_byte_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(encode(photo_like(120, 80, seed=9), "PNG"))
    assert path.stat().st_size > SMALL.max_bytes
    with path.open("rb") as file:
        with pytest.raises(ImageTooLarge, match="the limit is 2,000 bytes"):
            imghash.hash_image(file, settings=SMALL)
        assert file.tell() == 0  # refused from its size: not a byte was read
    stream = io.BytesIO(path.read_bytes())  # no size to ask: read up to the limit, then refused
    with pytest.raises(ImageTooLarge, match="more than 2,000 bytes"):
        imghash.hash_image(stream, settings=SMALL)


def test_a_text_file_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"not used")
    with path.open() as text, pytest.raises(InvalidRequest, match=r"text mode.*'rb'"):
        imghash.hash_image(text)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="text mode"):
        imghash.hash_image(io.StringIO("abc"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((8, 8), dtype=np.float32), "uint8 values .* not float32"),
        (np.zeros((8, 8), dtype=np.int64), "not int64"),
        (np.zeros((8, 8), dtype=bool), "not bool"),
        (np.zeros((8, 8, 2), dtype=np.uint8), r"not \(8, 8, 2\)"),
        (np.zeros((8, 8, 5), dtype=np.uint8), r"not \(8, 8, 5\)"),
        (np.zeros((64,), dtype=np.uint8), r"not \(64,\)"),
        (np.zeros((2, 8, 8, 3), dtype=np.uint8), r"not \(2, 8, 8, 3\)"),
        (np.zeros((0, 8), dtype=np.uint8), r"empty \(8x0 pixels\)"),
    ],
)
def test_arrays_of_another_kind_are_invalid_requests(array: Any, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        imghash.hash_image(array)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        (42, "builtins.int"),
        (None, "builtins.NoneType"),
        ([1, 2, 3], "builtins.list"),
        ({"image": b""}, "builtins.dict"),
        (3.5, "builtins.float"),
        (object(), "builtins.object"),
    ],
)
def test_anything_else_is_an_invalid_request_naming_its_type(source: Any, name: str) -> None:
    with pytest.raises(InvalidRequest, match=f"cannot hash a {name}; pass the bytes of an image"):
        imghash.hash_image(source)


@pytest.mark.parametrize("url", ["https://example.com/a.jpg", "HTTP://example.com/a.jpg"])
def test_a_url_points_to_the_safe_fetcher(url: str) -> None:
    with pytest.raises(InvalidRequest, match=r"does not fetch.*imghash\.fetch_url.*imghash hash"):
        imghash.hash_image(url)


def test_another_scheme_is_refused_as_a_url() -> None:
    with pytest.raises(InvalidRequest, match="is a s3 URL; only http and https"):
        imghash.hash_image("s3://bucket/key.jpg")


def test_fetch_url_fetches_with_the_api_checks(make_image: Callable[..., bytes]) -> None:
    data = make_image(64, 48)
    with upstream({"/a.png": send_bytes(data, "image/png")}) as base:
        with pytest.raises(imghash.FetchBlocked, match=r"port .* is not allowed"):
            imghash.fetch_url(base + "/a.png", settings=Settings())
        with pytest.raises(imghash.FetchBlocked, match="non-public address"):
            imghash.fetch_url("http://127.0.0.1/a.png", settings=Settings())
        local = Settings(allow_private_urls=True)
        fetched = imghash.fetch_url(base + "/a.png", settings=local)
    assert fetched == data
    assert imghash.hash_image(fetched).hex() == imghash.hash_image(data).hex()
    with pytest.raises(InvalidRequest, match="a URL is a str, not a bytes"):
        imghash.fetch_url(b"https://example.com/")  # type: ignore[arg-type]


def test_compare_images_takes_mixed_kinds(tmp_path: Path) -> None:
    picture = photo_like(120, 80, seed=10)
    path = tmp_path / "a.png"
    path.write_bytes(encode(picture, "PNG"))
    verdict = imghash.compare_images(np.asarray(picture), path)
    assert verdict.likely_same
    assert {c.distance for c in verdict.algorithms.values()} == {0}
    assert imghash.compare_images(picture, picture.resize((60, 40))).likely_same
