"""Dihedral matching on real pictures: turned and flipped copies match, different photos do not.

``corpus/pdq/reg-test-input/dih/`` holds one photo in all eight orientations (Meta's
own test set); ``corpus/orientation/`` holds one picture stored in the eight EXIF
orientations, which the ``imagehash`` profile hashes as stored (turned), so that the
orientation dihedral matching finds is the one the EXIF tag names.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import imghash
from imghash._bits import perceptual_hash
from imghash._decode import decode
from imghash._pixels import prepare_imagehash, prepare_jimp
from imghash._settings import Settings
from tests.helpers import TURNS

#: Meta's file names in dih/, in DIHEDRAL order.
BRIDGE = (
    "bridge-1-original.jpg",
    "bridge-2-rotate-90.jpg",
    "bridge-3-rotate-180.jpg",
    "bridge-4-rotate-270.jpg",
    "bridge-5-flipx.jpg",
    "bridge-6-flipy.jpg",
    "bridge-7-flip-plus-1.jpg",
    "bridge-8-flip-minus-1.jpg",
)
#: The turn that takes an upright picture to how an EXIF orientation tag says it is
#: stored (tag 6: "rotate 90 CW to display", so it is stored a quarter turn counter-clockwise).
EXIF_STORED = {
    1: "original",
    2: "flipy",
    3: "rotate180",
    4: "flipx",
    5: "flipplus1",
    6: "rotate90",
    7: "flipminus1",
    8: "rotate270",
}


@pytest.mark.parametrize("profile", ["jimp", "imagehash"])
def test_every_orientation_of_the_bridge_matches_only_with_dihedral(
    corpus: Path, profile: str
) -> None:
    folder = corpus / "pdq/reg-test-input/dih"
    original = folder / BRIDGE[0]
    for name, orientation in zip(BRIDGE, imghash.DIHEDRAL, strict=True):
        options = {"algorithms": "all,pdq", "profile": profile}
        turned = imghash.compare_images(original, folder / name, dihedral=True, **options)
        assert turned.likely_same, name
        assert turned.orientation == orientation, name
        assert turned.decided_by == ("phash", "pdq"), name
        plain = imghash.compare_images(original, folder / name, **options)
        assert plain.likely_same == (orientation == "original"), name
        assert plain.orientation is None


@pytest.mark.parametrize("kind", ["landscape", "portrait"])
def test_the_orientation_found_is_the_one_the_exif_tag_names(corpus: Path, kind: str) -> None:
    folder = corpus / "orientation"
    upright = folder / f"{kind}_1.jpg"
    for tag, orientation in EXIF_STORED.items():
        found = imghash.compare_images(
            upright, folder / f"{kind}_{tag}.jpg", profile="imagehash", dihedral=True
        )
        assert found.likely_same, tag
        assert found.orientation == orientation, tag
        assert found.decided_by == ("phash",), tag  # all: aHash and dHash cannot turn


def test_no_false_positive_between_different_photos(corpus: Path) -> None:
    """Every ordered pair of distinct photos (the corpus's and Meta's unrelated ones), the
    first turned each way: none is likely the same, whether pHash and PDQ decide together
    or each alone."""
    photos = sorted((corpus / "photos").glob("*.jpg"))
    photos += sorted((corpus / "pdq/reg-test-input/labelme-subset").glob("*.jpg"))
    photos += [corpus / "pdq/reg-test-input/pen-and-coaster.png"]
    photos += [corpus / "pdq/reg-test-input/dih" / BRIDGE[0]]
    assert len(photos) == 45
    hashed = [imghash.hash_image(p, algorithms="phash,pdq", dihedral=True) for p in photos]
    matched = []
    for (i, a), (j, b) in itertools.permutations(enumerate(hashed), 2):
        for names in (("phash", "pdq"), ("phash",), ("pdq",)):
            if imghash.compare(a.only(*names), b.only(*names), dihedral=True).likely_same:
                matched.append((photos[i].name, photos[j].name, names))
    assert not matched


@pytest.mark.parametrize("profile", ["jimp", "imagehash"])
def test_phash_dihedral_hashes_are_those_of_the_turned_thumbnail(
    corpus: Path, profile: str
) -> None:
    """Exact: the k-th dihedral pHash is the pHash of the profile's 32x32 thumbnail turned
    by DIHEDRAL[k] (the DCT symmetry; no corpus photo has an unstable pHash bit)."""
    prepare = prepare_jimp if profile == "jimp" else prepare_imagehash
    for path in sorted((corpus / "photos").glob("*.jpg")):
        thumb = prepare(decode(path.read_bytes(), Settings())).thumbnail(32, 32)
        computed = perceptual_hash(thumb, profile, dihedral=True)
        assert computed.dihedral is not None
        for (name, turn), turned in zip(TURNS.items(), computed.dihedral, strict=True):
            direct = perceptual_hash(np.ascontiguousarray(turn(thumb)), profile)
            assert (direct.unstable_bits, turned.unstable_bits) == (0, 0), path.name
            assert direct.hash == turned.hash, (path.name, name)
