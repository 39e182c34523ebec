"""PDQ as an algorithm of the library: ``hash_image(..., algorithms="pdq")`` is Meta's reference.

What PDQ hashes is defined as the frame's 8-bit RGB pixels (16-bit samples scaled
``v >> 8``, alpha left out), turned by the EXIF orientation in the ``jimp`` profile and
as stored in the ``imagehash`` profile. Those pixels are made here independently of the
library's pipeline (Pillow's own transpose and ``convert("RGB")``) and handed to
``pdqhash``, the C++ reference: hash, quality and the eight dihedral hashes must agree
bit for bit, through bytes, files, PIL images and arrays alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

import imghash
from imghash._decode import decode, heif_available, upright
from imghash._settings import Settings
from tests.corpus.test_imagehash_parity import corpus_images
from tests.helpers import encode
from tests.pdq_oracle import oracle_dihedral, oracle_hash

U8 = npt.NDArray[np.uint8]
SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N", "I"}


def frame_rgb(data: bytes, *, turn: bool) -> U8:
    """The 8-bit RGB pixels PDQ is defined on, made with Pillow alone."""
    decoded = decode(data, Settings.from_environ({}))
    image = upright(decoded) if turn else decoded.pillow()
    if image.mode in SIXTEEN_BIT:
        grey = (np.clip(np.asarray(image), 0, 65535) >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    return np.asarray(image.convert("RGB"))


def pdq(result: imghash.HashResult) -> tuple[str, int, list[str]]:
    return (
        result.hashes["pdq"].hex(),
        result.quality["pdq"],
        [h.hex() for h in result.dihedral["pdq"]],
    )


def oracle(rgb: U8) -> tuple[str, int, list[str]]:
    plain = oracle_hash(rgb)
    return (
        f"{plain.value:064x}",
        plain.quality,
        [f"{h.value:064x}" for h in oracle_dihedral(rgb)],
    )


def test_every_corpus_image_is_the_references_pdq(corpus: Path) -> None:
    heif_available()
    images = corpus_images(corpus)
    assert len(images) >= 120
    differ = []
    for path in images:
        data = path.read_bytes()
        ours = pdq(imghash.hash_image(data, algorithms="pdq", dihedral=True))
        if ours != oracle(frame_rgb(data, turn=True)):
            differ.append(str(path.relative_to(corpus)))
    assert not differ


def test_the_imagehash_profile_does_not_turn(corpus: Path) -> None:
    """Both profiles give pdqhash's values; only the EXIF turn differs, as for the others."""
    folder = corpus / "orientation"
    checked = 0
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        kept = imghash.hash_image(data, algorithms="pdq", profile="imagehash", dihedral=True)
        turned = imghash.hash_image(data, algorithms="pdq", dihedral=True)
        assert pdq(kept) == oracle(frame_rgb(data, turn=False)), path.name
        assert pdq(turned) == oracle(frame_rgb(data, turn=True)), path.name
        checked += decode(data, Settings()).orientation != 1
    assert checked >= 7  # every orientation but the upright one is exercised


def test_pil_images_and_arrays_hash_as_their_png(corpus: Path) -> None:
    path = corpus / "orientation" / "landscape_6.jpg"
    with Image.open(path) as opened:
        from_pil = imghash.hash_image(opened, algorithms="pdq")  # EXIF tag kept and applied
    assert from_pil.hashes == imghash.hash_image(path, algorithms="pdq").hashes
    rgb = frame_rgb(path.read_bytes(), turn=True)
    from_array = imghash.hash_image(rgb, algorithms="pdq")
    from_png = imghash.hash_image(encode(Image.fromarray(rgb)), algorithms="pdq")
    assert from_array.hashes == from_png.hashes
    assert from_array.hashes["pdq"].value == oracle_hash(rgb).value


@pytest.mark.parametrize("profile", ["jimp", "imagehash"])
def test_pdq_is_reused_beside_the_other_algorithms(corpus: Path, profile: str) -> None:
    """Asked with the seed's three, PDQ and they are what each gives alone."""
    data = (corpus / "photos" / "DSCN0010.jpg").read_bytes()
    together = imghash.hash_image(data, algorithms="all,pdq", profile=profile)
    seed = imghash.hash_image(data, profile=profile)
    alone = imghash.hash_image(data, algorithms="pdq", profile=profile)
    assert list(together.hashes) == ["ahash", "dhash", "phash", "pdq"]
    assert {n: together.hashes[n] for n in seed.hashes} == seed.hashes
    assert together.hashes["pdq"] == alone.hashes["pdq"]
    assert together.quality == alone.quality == {"pdq": 100}
    if profile == "jimp":  # the seed's own example still comes out
        assert seed.hex() == {
            "ahash": "fcfffff310100000",
            "dhash": "313c156666e4e584",
            "phash": "4edbd88c49eaf808",
        }
