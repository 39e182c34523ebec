"""simplejpeg gives Pillow's pixels on every colour JPEG of the corpus, at full and reduced scale,
decoding a file with restart markers whole or in parts on threads.

The package decodes colour JPEGs with simplejpeg when it is installed and with Pillow
otherwise: both paths must give the same pixels, hence the same hashes.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import imghash
from imghash import _jpeg, _restarts
from imghash._hashing import FAST_MIN_SIDE
from tests.helpers import need


def colour_jpegs(corpus: Path) -> list[Path]:
    found = []
    for path in sorted(corpus.rglob("*.jp*g")):
        if "bad" in path.relative_to(corpus).parts:
            continue
        with Image.open(path) as image:
            if image.mode == "RGB":
                found.append(path)
    return found


@pytest.mark.parametrize("threads", [1, 2], ids=["one thread", "parts on two threads"])
@pytest.mark.parametrize("side", [None, FAST_MIN_SIDE], ids=["full", "draft"])
def test_pixels_equal_pillows(corpus: Path, side: int | None, threads: int) -> None:
    need(_jpeg.simplejpeg_module() is not None, "simplejpeg is not installed")
    decoded = cut = 0
    for path in colour_jpegs(corpus):
        data = path.read_bytes()
        header = Image.open(io.BytesIO(data))
        if side is not None:
            header.draft("RGB", (side, side))
        ours = _jpeg.decode_rgb(data, header, threads)
        cut += _restarts.cut(data, header.size, threads) is not None
        if ours is None:  # libjpeg warned: Pillow decodes it (checked below)
            continue
        reference = Image.open(io.BytesIO(data))
        if side is not None:
            reference.draft("RGB", (side, side))
        np.testing.assert_array_equal(ours, np.asarray(reference.convert("RGB")), path.name)
        decoded += 1
    assert decoded >= 90
    # The 12 MP and 8 MP photos (among others) have restart markers: cut in two.
    assert cut >= (3 if threads > 1 else 0)


def test_a_file_libjpeg_warns_about_is_left_to_pillow(corpus: Path) -> None:
    need(_jpeg.simplejpeg_module() is not None, "simplejpeg is not installed")
    path = corpus / "odd_exif" / "corrupted_exif_3648x2736.jpg"
    data = path.read_bytes()
    assert _jpeg.decode_rgb(data, Image.open(io.BytesIO(data))) is None
    assert imghash.hash_image(data).width == 3648


@pytest.mark.parametrize("fast", [False, True])
def test_hashes_are_the_same_without_simplejpeg(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    paths = colour_jpegs(corpus)[::7]
    for profile in ("jimp", "imagehash"):
        with_it = [imghash.hash_image(p, profile=profile, fast=fast).hashes for p in paths]
        with monkeypatch.context() as patch:
            patch.setattr(_jpeg, "simplejpeg_module", lambda: None)
            without = [imghash.hash_image(p, profile=profile, fast=fast).hashes for p in paths]
        assert with_it == without
