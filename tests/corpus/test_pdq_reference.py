"""PDQ on the corpus: bit for bit Meta's C++ reference (``pdqhash``) given the same pixels,
and within PDQ's tolerance of the reference's published outputs from the files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from imghash._decode import decode, heif_available, upright
from imghash._pdq import pdq_dihedral, pdq_hash
from imghash._settings import Settings
from tests.corpus.test_imagehash_parity import corpus_images
from tests.pdq_oracle import oracle_dihedral, oracle_hash

U8 = npt.NDArray[np.uint8]

#: Outputs of Meta's C++ reference tool (``pdq-photo-hasher``, pixels decoded by
#: CImg) on ``pdq/reg-test-input/dih/``, from facebook/ThreatExchange
#: ``pdq/cpp/reg_test/expected/out``: hash, quality 100 each.
PUBLISHED = {
    "bridge-1-original.jpg": "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22",
    "bridge-2-rotate-90.jpg": "30a10efdf1c83f429013d48d0ffffc52e34e0e35ada952a9d29605215aa9e5af",
    "bridge-3-rotate-180.jpg": "2dad5a64b1a142e7d362a09857da895ae63b8c7fc23794b766b319361fc93188",
    "bridge-4-rotate-270.jpg": "a5f0a457248995e8c9065c275aaa5498b61ba4bdf8fcf80387c32f8b5bfc4f05",
    "bridge-5-flipx.jpg": "d8f80f33e0f417b20e37f5cd028f980fb36ed02a9662c1e233e64c634e9c64dd",
    "bridge-6-flipy.jpg": "2da9259bb1a1bd1a5362576552da32a5e63b7380c2774b4866b346c91b89ce77",
    "bridge-7-flip-plus-1.jpg": "f0a1e10271ccc0bd90530b720fff038de34ef1e8ada9a956d6967ade5ea91a50",
    "bridge-8-flip-minus-1.jpg": "2df05aa8a4896a17c14682da5aaaab07b61b5b42f8fc07fc87c3d0741bfcb0fa",
}
#: PDQ's own test of an implementation (the corpus's pdq/README.md): every hash of
#: quality >= 80 within this distance of the reference's.
TOLERANCE = 10
GOOD_QUALITY = 80


def pixels(path: Path, *, turn: bool = True) -> U8:
    """8-bit RGB of a corpus file, decoded as the library decodes (turned by its EXIF tag)."""
    decoded = decode(path.read_bytes(), Settings.from_environ({}))
    frame = upright(decoded) if turn else decoded.image
    return np.asarray(frame.convert("RGB"))


def test_every_corpus_image_equals_the_reference(corpus: Path) -> None:
    heif_available()  # the HEIC photos are decoded through the optional plugin
    images = corpus_images(corpus)
    assert len(images) >= 120
    mismatches: dict[str, object] = {}
    for path in images:
        rgb = pixels(path)
        name = str(path.relative_to(corpus))
        if pdq_hash(rgb) != oracle_hash(rgb):
            mismatches[name] = "hash"
        if pdq_dihedral(rgb) != oracle_dihedral(rgb):
            mismatches[name] = "dihedral hashes"
    assert not mismatches


def pdq_images(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "pdq").rglob("*") if p.is_file() and p.suffix != ".md")


def test_pdq_folder_from_the_files(corpus: Path) -> None:
    """Our decoding and hash against the reference given Pillow's own plain decoding.

    As Meta's tool reads a file: as stored (no EXIF turn), alpha dropped.
    """
    far: dict[str, tuple[int, int]] = {}
    for path in pdq_images(corpus):
        ours = pdq_hash(pixels(path, turn=False))
        with Image.open(path) as image:
            theirs = oracle_hash(np.asarray(image.convert("RGB")))
        distance = (ours.value ^ theirs.value).bit_count()
        if ours.quality != theirs.quality or (theirs.quality >= GOOD_QUALITY and distance):
            far[path.name] = (distance, ours.quality)
    assert not far


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_reference_outputs(corpus: Path, name: str) -> None:
    """Within PDQ's tolerance of Meta's tool, whose JPEG decoder (CImg's) is not Pillow's."""
    ours = pdq_hash(pixels(corpus / "pdq/reg-test-input/dih" / name, turn=False))
    assert ours.quality == 100
    assert (ours.value ^ int(PUBLISHED[name], 16)).bit_count() <= TOLERANCE


def test_dihedral_hashes_find_each_turned_copy(corpus: Path) -> None:
    """The original's eight hashes name the orientation of each turned file of ``dih/``."""
    folder = corpus / "pdq/reg-test-input/dih"
    turned = pdq_dihedral(pixels(folder / "bridge-1-original.jpg"))
    for k, name in enumerate(PUBLISHED):
        ours = pdq_hash(pixels(folder / name))
        distances = [(ours.value ^ h.value).bit_count() for h in turned]
        assert distances[k] <= TOLERANCE, name
        assert min(d for i, d in enumerate(distances) if i != k) > 3 * TOLERANCE, name
