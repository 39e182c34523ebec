"""The fast pipeline (simplejpeg, integer grey, fused width pass) changes no bit.

The oracle is the pipeline as it was before (tests/oracle: Pillow decode, Pillow's float32
grey bracketed by two conversions, the step-by-step resizer), run on the same bytes. Every
thumbnail the hashes read is compared, not only the hashes: on every corpus image, and on
random crops of the large photos (PNG and JPEG, exact and fast, both profiles).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import imghash
from imghash import _jpeg, _pixels
from imghash._decode import decode
from imghash._hashing import FAST_MIN_SIDE
from imghash._settings import Settings
from tests.oracle import legacy_pixels

SIZES = [(8, 8), (9, 8), (32, 32)]
SETTINGS = Settings()


def thumbnails(data: bytes, fast: bool, *, legacy: bool, profile: str = "jimp") -> list[bytes]:
    decoded = decode(data, SETTINGS, draft_side=FAST_MIN_SIDE if fast else None)
    module = legacy_pixels if legacy else _pixels
    jimp = profile == "jimp"
    pixels = module.prepare_jimp(decoded) if jimp else module.prepare_imagehash(decoded)
    return [pixels.thumbnail(w, h).tobytes() for w, h in SIZES]


def legacy_thumbnails(data: bytes, fast: bool, profile: str = "jimp") -> list[bytes]:
    """The oracle, fed by Pillow's decoder (simplejpeg switched off)."""
    saved = _jpeg.simplejpeg_module
    _jpeg.simplejpeg_module = lambda: None  # type: ignore[assignment]
    try:
        return thumbnails(data, fast, legacy=True, profile=profile)
    finally:
        _jpeg.simplejpeg_module = saved  # type: ignore[assignment]


def corpus_images(corpus: Path) -> list[Path]:
    suffixes = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
    return sorted(
        p
        for p in corpus.rglob("*")
        if p.suffix.lower() in suffixes and "bad" not in p.relative_to(corpus).parts
    )


@pytest.mark.parametrize("fast", [False, True], ids=["exact", "fast"])
def test_every_corpus_image_gives_the_same_thumbnails(corpus: Path, fast: bool) -> None:
    checked = 0
    for path in corpus_images(corpus):
        data = path.read_bytes()
        try:
            expected = legacy_thumbnails(data, fast)
        except imghash.ImghashError:
            continue
        assert thumbnails(data, fast, legacy=False) == expected, path.name
        checked += 1
    assert checked >= 80


@pytest.fixture(scope="module")
def large_photos(corpus: Path) -> list[np.ndarray]:
    out = []
    for path in sorted((corpus / "photos").glob("large_*.jpg")):
        with Image.open(path) as image:
            image.draft("RGB", (image.width // 2, image.height // 2))
            out.append(np.asarray(image.convert("RGB")))
    return out


def _crop(photos: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    photo = photos[int(rng.integers(len(photos)))]
    height, width = photo.shape[:2]
    h = int(rng.integers(1, min(height, 900)))
    w = int(rng.integers(1, min(width, 900)))
    top, left = int(rng.integers(height - h + 1)), int(rng.integers(width - w + 1))
    return photo[top : top + h, left : left + w]


@pytest.mark.parametrize("seed", range(6))
def test_random_crops_give_the_same_thumbnails(large_photos: list[np.ndarray], seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(8):
        crop = _crop(large_photos, rng)
        for fmt, options in (("PNG", {}), ("JPEG", {"quality": int(rng.integers(50, 96))})):
            buffer = io.BytesIO()
            Image.fromarray(crop).save(buffer, fmt, **options)
            data = buffer.getvalue()
            for profile in ("jimp", "imagehash"):
                for fast in (False, True):
                    expected = legacy_thumbnails(data, fast, profile)
                    got = thumbnails(data, fast, legacy=False, profile=profile)
                    assert got == expected, (crop.shape, fmt, profile, fast)
