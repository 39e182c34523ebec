"""The orientation set: each of the 16 files, turned by its EXIF tag, matches its upright twin."""

from __future__ import annotations

from pathlib import Path

import pytest

import imghash
from imghash import compare


@pytest.mark.parametrize("kind", ["landscape", "portrait"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_matches_upright_twin(corpus: Path, kind: str, orientation: int) -> None:
    upright = imghash.hash_image(corpus / "orientation" / f"{kind}_1.jpg")
    turned = imghash.hash_image(corpus / "orientation" / f"{kind}_{orientation}.jpg")
    assert (turned.width, turned.height) == (upright.width, upright.height)
    comparison = compare(upright, turned)
    assert comparison.likely_same
    # The files are re-encoded JPEGs: a few bits of decoder noise, never more.
    assert all(c.distance <= 4 for c in comparison.algorithms.values()), comparison
