"""Dihedral hashes and matching on generated pictures, and PDQ's signals in the pipeline.

pHash's eight hashes come from one DCT block by its symmetries. What is equal, precisely:

- always (the DCT symmetry): the k-th dihedral pHash is the pHash of the profile's 32x32
  thumbnail turned by ``DIHEDRAL[k]``, in every bit that rounding noise does not decide;
- then, the thumbnail of a turned image against the turned thumbnail: in the ``jimp``
  profile the same when both sides are 32 times a power of two, 64 or more (the area
  averages are then exact), else within one grey level (its float32 sums and averages
  run in another order);
  in the ``imagehash`` profile the same for the flips, while a quarter turn swaps
  Pillow's two resampling passes, whose intermediate rounding and clipping then differ.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

import imghash
from imghash import _pdq_downscale
from imghash._bits import perceptual_hash
from imghash._decode import decode
from imghash._pixels import prepare_imagehash, prepare_jimp
from imghash._settings import Settings
from tests.helpers import TURNS, encode, photo_like
from tests.patterns import patterns
from tests.pdq_oracle import oracle_dihedral, oracle_hash

U8 = npt.NDArray[np.uint8]

SETTINGS = Settings()


def turned(a: U8, name: str) -> U8:
    return np.ascontiguousarray(TURNS[name](a))


def thumbnail(image: Image.Image, profile: str) -> U8:
    """The profile's 32x32 grey thumbnail of ``image``, read back from its PNG."""
    prepare = prepare_jimp if profile == "jimp" else prepare_imagehash
    return prepare(decode(encode(image), SETTINGS)).thumbnail(32, 32)


def pictures() -> list[tuple[str, Image.Image]]:
    made = [
        (f"photo-like {w}x{h}", photo_like(w, h, seed=w + h))
        for w, h in ((64, 64), (96, 64), (300, 200), (320, 224), (640, 480), (31, 77))
    ]
    return made + list(patterns(every=6))


def test_the_orientation_names_and_pdq_dihedral_hashes_are_the_references() -> None:
    assert list(TURNS) == list(imghash.DIHEDRAL)
    rgb = np.asarray(photo_like(90, 60, seed=1))
    ours = imghash.dihedral_hashes(rgb, algorithm="pdq")
    assert [h.value for h in ours] == [h.value for h in oracle_dihedral(rgb)]
    assert ours[0] == imghash.hash_image(rgb, algorithms="pdq").hashes["pdq"]
    # Each is near the hash of the image actually turned (the filters run in another
    # order, so not equal): what makes it findable.
    for k, name in enumerate(imghash.DIHEDRAL):
        distance = (ours[k].value ^ oracle_hash(turned(rgb, name)).value).bit_count()
        assert distance <= 10, name  # PDQ's own tolerance


@pytest.mark.parametrize("profile", ["jimp", "imagehash"])
def test_phash_dihedral_is_the_phash_of_the_turned_thumbnail(profile: str) -> None:
    """Exact but for noise: a bit may differ only where either side calls it unstable."""
    exact = noisy = 0
    for label, image in pictures():
        thumb = thumbnail(image, profile)
        computed = perceptual_hash(thumb, profile, dihedral=True)
        assert computed.dihedral is not None
        assert computed.dihedral[0] == perceptual_hash(thumb, profile)
        for name, turn in zip(imghash.DIHEDRAL, computed.dihedral, strict=True):
            direct = perceptual_hash(turned(thumb, name), profile)
            allowed = (direct.unstable_bits or 0) + (turn.unstable_bits or 0)
            assert direct.hash.distance(turn.hash) <= allowed, (label, name)
            if not allowed:
                exact += 1
                assert direct.hash == turn.hash
            else:
                noisy += 1
    assert exact >= 80
    assert noisy >= 20


@pytest.mark.parametrize("size", [(256, 256), (512, 128), (128, 64)])
def test_jimp_thumbnails_of_turned_images_of_32_times_a_power_of_two(
    size: tuple[int, int],
) -> None:
    """Every sum and average of the resizer exact: the turned image's hash is the dihedral
    hash. (Both passes must run: a side of 32 skips one, which then truncates.)"""
    rgb = np.asarray(photo_like(*size, seed=5))
    theirs = imghash.hash_image(rgb, algorithms="phash", dihedral=True)
    for k, name in enumerate(imghash.DIHEDRAL):
        image = Image.fromarray(turned(rgb, name))
        assert np.array_equal(
            thumbnail(image, "jimp"), turned(thumbnail(Image.fromarray(rgb), "jimp"), name)
        )
        again = imghash.hash_image(turned(rgb, name), algorithms="phash")
        assert again.hashes["phash"] == theirs.dihedral["phash"][k], name


@pytest.mark.parametrize("size", [(300, 200), (640, 480), (123, 77), (320, 224)])
def test_thumbnails_of_turned_images_otherwise(size: tuple[int, int]) -> None:
    rgb = np.asarray(photo_like(*size, seed=6))
    for name in imghash.DIHEDRAL:
        image = Image.fromarray(turned(rgb, name))
        jimp = thumbnail(image, "jimp").astype(int)
        expected = turned(thumbnail(Image.fromarray(rgb), "jimp"), name).astype(int)
        assert np.abs(jimp - expected).max() <= 1, name
        if name.startswith("flip") and name not in ("flipplus1", "flipminus1"):
            lanczos = thumbnail(image, "imagehash")
            expected8 = turned(thumbnail(Image.fromarray(rgb), "imagehash"), name)
            assert np.array_equal(lanczos, expected8), name


def test_dihedral_hashes_need_an_algorithm_that_turns() -> None:
    rgb = np.asarray(photo_like(80, 60))
    phash = imghash.dihedral_hashes(rgb, algorithm="phash", profile="imagehash")
    assert len(phash) == 8
    assert phash[0] == imghash.hash_image(rgb, profile="imagehash").hashes["phash"]
    with pytest.raises(imghash.InvalidRequest, match="phash and pdq"):
        imghash.dihedral_hashes(rgb, algorithm="ahash")


def test_dihedral_matching_needs_an_algorithm_that_turns() -> None:
    rgb = np.asarray(photo_like(80, 60))
    with pytest.raises(imghash.InvalidRequest, match="phash or pdq"):
        imghash.compare_images(rgb, rgb, algorithms="ahash,dhash", dihedral=True)
    plain = imghash.hash_image(rgb, algorithms="all,pdq")
    with pytest.raises(imghash.InvalidRequest, match="dihedral=True"):
        imghash.compare(plain, plain, dihedral=True)


def test_dihedral_matching_is_decided_by_the_algorithms_that_turn() -> None:
    rgb = np.asarray(photo_like(160, 96, seed=2))
    mirrored = turned(rgb, "flipy")
    found = imghash.compare_images(rgb, mirrored, algorithms="all,pdq", dihedral=True)
    assert found.orientation == "flipy"
    assert found.decided_by == ("phash", "pdq")
    assert found.likely_same
    data = found.to_dict()
    assert data["orientation"] == "flipy"
    assert data["quality"] == {"image1": {"pdq": 100}, "image2": {"pdq": 100}}
    # aHash and dHash are compared as the images are: far apart, and not deciding
    assert found.algorithms["phash"].distance <= 2 < found.algorithms["dhash"].distance
    same = imghash.compare_images(rgb, rgb, algorithms="phash", dihedral=True)
    assert (same.orientation, same.likely_same) == ("original", True)
    assert "orientation" not in imghash.compare_images(rgb, rgb).to_dict()


def test_pdq_quality_is_a_signal_of_the_result() -> None:
    flat = np.full((90, 120, 3), 140, dtype=np.uint8)
    alone = imghash.hash_image(flat, algorithms="pdq")
    assert alone.quality == {"pdq": 0}
    assert alone.low_information  # quality under 50
    assert not alone.flat  # judged on the grey thumbnails, not made for PDQ alone
    assert alone.signals() == {"low_information": True, "quality": {"pdq": 0}}
    together = imghash.hash_image(flat, algorithms="all,pdq")
    assert together.flat
    assert together.low_information
    busy = imghash.hash_image(np.asarray(photo_like(120, 90)), algorithms="pdq")
    assert busy.quality == {"pdq": 100}
    assert not busy.low_information
    assert busy.signals() == {"quality": {"pdq": 100}}
    # two flat pictures: PDQ's bits are noise, nothing decides, never likely the same
    other = np.full((90, 120, 3), 30, dtype=np.uint8)
    verdict = imghash.compare_images(flat, other, algorithms="pdq")
    assert verdict.decided_by == ()
    assert not verdict.likely_same


@pytest.mark.parametrize("shape", [(333, 517), (1031, 129), (130, 900), (64, 64)])
def test_pdq_in_blocks_equals_the_reference(
    shape: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filtering in place a block of lines at a time changes no bit, whatever the blocks."""
    rgb = np.random.default_rng(shape).integers(0, 256, (*shape, 3), dtype=np.uint8)
    for floats in (5_000, 40_000):  # blocks of a few dozen lines, odd-sized, narrow tails
        monkeypatch.setattr(_pdq_downscale, "_BLOCK_FLOATS", floats)
        ours = imghash.hash_image(rgb, algorithms="pdq", dihedral=True)
        assert ours.hashes["pdq"].value == oracle_hash(rgb).value
        assert [h.value for h in ours.dihedral["pdq"]] == [h.value for h in oracle_dihedral(rgb)]


def test_a_result_restricted_to_some_algorithms_keeps_their_signals_only() -> None:
    checkerboard = (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8)
    full = imghash.hash_image(
        encode(Image.fromarray(checkerboard)), algorithms="all,pdq", dihedral=True
    )
    assert full.unstable_bits["phash"] > 0  # a pattern: its pHash has noise-decided bits

    pdq = full.only("pdq")
    assert set(pdq.hashes) == set(pdq.quality) == set(pdq.dihedral) == {"pdq"}
    assert pdq.unstable == {}
    assert pdq.dihedral_unstable_bits == {}
    assert pdq.hashes["pdq"] == full.hashes["pdq"]
    assert pdq.dihedral["pdq"] == full.dihedral["pdq"]

    phash = full.only("phash", "ahash")
    assert set(phash.hashes) == {"phash", "ahash"}
    assert phash.unstable_bits == full.unstable_bits
    assert phash.quality == {}
    assert set(phash.dihedral) == {"phash"}
    assert phash.dihedral_unstable_bits == full.dihedral_unstable_bits
