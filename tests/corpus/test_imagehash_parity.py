"""Profile ``imagehash`` is bit-identical to the imagehash 4.3 library on every corpus image."""

from __future__ import annotations

from pathlib import Path

import imagehash
import pytest
from PIL import Image

import imghash

SKIP_FOLDERS = {"bad", "reference"}


def corpus_images(corpus: Path) -> list[Path]:
    return sorted(
        p
        for p in corpus.rglob("*")
        if p.is_file() and p.parent.name not in SKIP_FOLDERS and p.suffix != ".md"
    )


def test_every_corpus_image_matches_the_library(corpus: Path) -> None:
    imghash._decode.heif_available()  # the library opens HEIC through the same plugin
    images = corpus_images(corpus)
    assert len(images) >= 80
    mismatches = {}
    for path in images:
        ours = imghash.hash_image(path, profile="imagehash").hex()
        with Image.open(path) as image:
            theirs = {
                "ahash": str(imagehash.average_hash(image)),
                "dhash": str(imagehash.dhash(image)),
                "phash": str(imagehash.phash(image)),
            }
        if ours != theirs:
            mismatches[path.name] = (ours, theirs)
    assert not mismatches


@pytest.mark.parametrize("name", ["formats/iphone.heic", "formats/sample.heif"])
def test_heif_is_decoded(corpus: Path, name: str) -> None:
    result = imghash.hash_image(corpus / name)
    assert result.format == "heif"
    assert not result.low_information
