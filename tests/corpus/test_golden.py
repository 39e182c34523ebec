"""Golden hashes pinned from DESIGN §3: a Pillow or numpy upgrade that moves a bit fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

import imghash

GOLDEN = [
    # The seed spec's own documented example (jimp, the default profile).
    ("photos/DSCN0010.jpg", "jimp", "fcfffff310100000", "313c156666e4e584", "4edbd88c49eaf808"),
    # imagehash 4.3's published test vectors.
    (
        "formats/imagehash_logo.png",
        "imagehash",
        "ffd7918181c9ffff",
        "0026273b2b19550e",
        "ba8c84536bd3c366",
    ),
    (
        "formats/peppers.png",
        "imagehash",
        "9f172786e71f1e00",
        "3a7ece1c9df4fcb9",
        "92a71cdc79d980e3",
    ),
]


@pytest.mark.parametrize(("name", "profile", "ahash", "dhash", "phash"), GOLDEN)
def test_golden(corpus: Path, name: str, profile: str, ahash: str, dhash: str, phash: str) -> None:
    result = imghash.hash_image(corpus / name, profile=profile)
    assert result.hex() == {"ahash": ahash, "dhash": dhash, "phash": phash}


def test_seed_example_from_bytes_and_each_algorithm(corpus: Path) -> None:
    data = (corpus / "photos/DSCN0010.jpg").read_bytes()
    assert imghash.hash_image(data, algorithms="phash").hex() == {"phash": "4edbd88c49eaf808"}
    assert imghash.hash_image(data, algorithms="dhash,ahash").hex() == {
        "dhash": "313c156666e4e584",
        "ahash": "fcfffff310100000",
    }
