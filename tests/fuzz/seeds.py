"""Seed inputs for the fuzzers: small images in every format and mode of the corpus.

Each corpus format (``formats/``: PNG in five modes, BMP, TIFF raw and LZW, GIF still
and animated, WebP lossy and lossless, JPEG baseline with EXIF, progressive, grey and
CMYK, HEIF) is re-encoded from the corpus's own picture at a small size, so that a
mutated seed decodes in milliseconds; the corpus's tiny PNGs and its small HEIF are
used as they are.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def seeds(corpus: Path) -> dict[str, bytes]:
    """Name -> bytes of every seed, in a fixed order."""
    with Image.open(corpus / "formats" / "dscn0012.png") as full:
        photo = full.convert("RGB").resize((48, 36), Image.Resampling.BILINEAR)
    with Image.open(corpus / "photos" / "DSCN0010.jpg") as camera:
        exif = camera.getexif()
        exif[0x0112] = 6  # an orientation to apply, so the EXIF path is taken
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(photo.size))
    frames = [photo.rotate(angle).convert("P") for angle in (0, 90, 180)]
    found = {
        "png_rgb": _encode(photo, "PNG"),
        "png_rgba": _encode(rgba, "PNG"),
        "png_palette": _encode(photo.convert("P"), "PNG", transparency=0),
        "png_grey": _encode(photo.convert("L"), "PNG"),
        "png_grey16": _encode(photo.convert("I;16"), "PNG"),
        "png_apng": _encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        "bmp": _encode(photo, "BMP"),
        "bmp_palette": _encode(photo.convert("P"), "BMP"),
        "tiff_raw": _encode(photo, "TIFF", dpi=(72, 72)),
        "tiff_lzw": _encode(photo, "TIFF", compression="tiff_lzw"),
        "tiff_multi": _encode(photo, "TIFF", save_all=True, append_images=[photo.rotate(90)]),
        "tiff_cmyk": _encode(photo.convert("CMYK"), "TIFF"),
        "gif": _encode(photo.convert("P"), "GIF"),
        "gif_animated": _encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "webp_lossy": _encode(photo, "WEBP", quality=60),
        "webp_lossless": _encode(rgba, "WEBP", lossless=True),
        "webp_animated": _encode(
            frames[0].convert("RGB"),
            "WEBP",
            save_all=True,
            append_images=[f.convert("RGB") for f in frames[1:]],
        ),
        "jpeg_exif": _encode(photo, "JPEG", quality=80, exif=exif.tobytes()),
        "jpeg_progressive": _encode(photo, "JPEG", quality=70, progressive=True),
        "jpeg_grey": _encode(photo.convert("L"), "JPEG"),
        "jpeg_cmyk": _encode(photo.convert("CMYK"), "JPEG"),
    }
    for name in ("tiny_1x1.png", "tiny_9x8.png", "tiny_24x18.png", "sample.heif"):
        found[name.replace(".", "_")] = (corpus / "formats" / name).read_bytes()
    return found
