"""Profile ``imagehash`` is bit-identical to the imagehash 4.3 library on every corpus image,
and on generated patterns whose pHash bits rounding noise decides (issue 9 item 5)."""

from __future__ import annotations

import os
from pathlib import Path

import imagehash
import pytest
from PIL import Image

import imghash
from imghash._decode import heif_available
from tests.helpers import encode
from tests.patterns import patterns as generated

SKIP_FOLDERS = {"bad", "reference"}
#: ``make test-full`` sets it: every generated pattern rather than every other one.
FULL = os.environ.get("IMGHASH_FULL") == "1"


def corpus_images(corpus: Path) -> list[Path]:
    return sorted(
        p
        for p in corpus.rglob("*")
        if p.is_file() and p.parent.name not in SKIP_FOLDERS and p.suffix != ".md"
    )


def test_every_corpus_image_matches_the_library(corpus: Path) -> None:
    heif_available()  # the library opens HEIC through the same plugin
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


def test_generated_patterns_match_the_library() -> None:
    """Checkerboards, stripes, symmetric drawings, gradients, line art: noise-decided bits."""
    patterns = list(generated(every=1 if FULL else 2))
    assert len(patterns) > 350
    mismatches = {}
    for name, image in patterns:
        ours = imghash.hash_image(encode(image), profile="imagehash").hashes["phash"]
        theirs = str(imagehash.phash(image))
        if ours.hex() != theirs:
            mismatches[name] = (ours.hex(), theirs)
    assert not mismatches
