"""The Hash value type: hex and int64 round trips, distance axioms (property tests)."""

from __future__ import annotations

import subprocess
import sys

import imagehash
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imghash import Hash, InvalidRequest

u64 = st.integers(0, 2**64 - 1)
#: A hash of either width: (value, width).
any_width = st.sampled_from([64, 256]).flatmap(
    lambda w: st.tuples(st.integers(0, 2**w - 1), st.just(w))
)


@given(u64)
def test_hex_round_trip(value: int) -> None:
    h = Hash(value)
    assert len(h.hex()) == 16
    assert h.hex() == h.hex().lower()
    assert Hash.from_hex(h.hex()) == h
    assert Hash.from_hex(h.hex().upper()) == h


@given(u64)
def test_signed_round_trip(value: int) -> None:
    h = Hash(value)
    assert -(2**63) <= h.signed < 2**63
    assert Hash.from_signed(h.signed) == h
    assert h.signed.to_bytes(8, "big", signed=True) == value.to_bytes(8, "big")


@given(u64, u64, u64)
def test_distance_is_a_metric(a: int, b: int, c: int) -> None:
    x, y, z = Hash(a), Hash(b), Hash(c)
    assert x.distance(x) == 0
    assert x.distance(y) == y.distance(x) == x - y
    assert 0 <= x.distance(y) <= 64
    assert (x.distance(y) == 0) == (x == y)
    assert x.distance(z) <= x.distance(y) + y.distance(z)


def test_bits_are_row_major_most_significant_first() -> None:
    bits = [True] + [False] * 62 + [True]
    assert Hash.from_bits(bits).hex() == "8000000000000001"


def test_known_values() -> None:
    h = Hash.from_hex("fcfffff310100000")
    assert h.value == 0xFCFFFFF310100000
    assert h.signed == 0xFCFFFFF310100000 - 2**64
    assert str(h) == "fcfffff310100000"
    assert repr(h) == "Hash('fcfffff310100000')"
    assert Hash.from_hex("0xFCFFFFF310100000") == h
    assert h.distance(Hash(0)) == bin(0xFCFFFFF310100000).count("1")


@pytest.mark.parametrize(
    "text", ["", "abc", "fcfffff31010000", "fcfffff3101000000", "zzzzzzzzzzzzzzzz"]
)
def test_bad_hex_is_refused_with_its_value(text: str) -> None:
    with pytest.raises(InvalidRequest, match="16 hex digits"):
        Hash.from_hex(text)


@pytest.mark.parametrize("value", [-1, 2**64])
def test_out_of_range_is_refused(value: int) -> None:
    with pytest.raises(InvalidRequest):
        Hash(value)


@pytest.mark.parametrize("value", [-(2**63) - 1, 2**63])
def test_out_of_range_signed_is_refused(value: int) -> None:
    with pytest.raises(InvalidRequest):
        Hash.from_signed(value)


def test_wrong_bit_count_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="64 or 256 bits, got 63"):
        Hash.from_bits([True] * 63)


# Width: 64 bits by default, 256 for PDQ; the width travels with the value.


@given(any_width)
def test_every_form_round_trips_at_either_width(case: tuple[int, int]) -> None:
    value, width = case
    h = Hash(value, width)
    assert len(h) == h.width == width
    assert int(h) == h.value == value
    assert len(h.hex()) == width // 4
    assert Hash.from_hex(h.hex()) == h  # the width is read from the digit count
    assert Hash.from_signed(h.signed, width) == h
    assert -(2 ** (width - 1)) <= h.signed < 2 ** (width - 1)
    assert h.signed.to_bytes(width // 8, "big", signed=True) == value.to_bytes(width // 8, "big")
    bits = h.bits
    assert bits.dtype == np.bool_
    assert bits.shape == (width,)
    assert "".join("1" if b else "0" for b in bits) == format(value, f"0{width}b")
    assert Hash.from_bits(bits) == h
    assert Hash.from_bits(bits.tolist()) == h
    assert repr(h) == f"Hash('{h.hex()}')"


@given(any_width, st.data())
def test_distance_at_either_width(case: tuple[int, int], data: st.DataObject) -> None:
    value, width = case
    other = data.draw(st.integers(0, 2**width - 1))
    x, y = Hash(value, width), Hash(other, width)
    assert x - x == 0
    assert x - y == y - x == x.distance(y)
    assert 0 <= x - y <= len(x)
    assert x - y == int(np.count_nonzero(x.bits != y.bits))  # bit by bit, independently


def test_the_same_value_at_two_widths_differs_and_does_not_compare() -> None:
    short, wide = Hash(5), Hash(5, 256)
    assert short != wide
    assert hash(short) != hash(wide)
    with pytest.raises(InvalidRequest, match="64-bit hash with a 256-bit hash"):
        short.distance(wide)
    with pytest.raises(InvalidRequest, match="256-bit hash with a 64-bit hash"):
        _ = wide - short


def test_a_256_bit_hash_from_64_hex_digits() -> None:
    text = "f" * 8 + "0" * 55 + "1"
    h = Hash.from_hex(text)
    assert len(h) == 256
    assert h.hex() == text
    assert h.bits[:32].all()
    assert not h.bits[32:-1].any()
    assert h.bits[-1]


@pytest.mark.parametrize("width", [0, 32, 63, 128, 512])
def test_other_widths_are_refused(width: int) -> None:
    with pytest.raises(InvalidRequest, match="64 or 256 bits"):
        Hash(0, width)
    with pytest.raises(InvalidRequest, match="64 or 256 bits"):
        Hash.from_signed(0, width)


def test_a_hash_is_truthy_even_when_all_zero() -> None:
    assert Hash(0)  # len(h) is the width, never 0


# imagehash interoperability, against imagehash's own values and its own `-`.


@given(any_width)
def test_imagehash_round_trip(case: tuple[int, int]) -> None:
    value, width = case
    h = Hash(value, width)
    theirs = h.to_imagehash()
    assert isinstance(theirs, imagehash.ImageHash)
    assert theirs.hash.shape == ((8, 8) if width == 64 else (16, 16))
    assert str(theirs) == h.hex()  # imagehash's own hex of the same bits
    assert imagehash.hex_to_hash(h.hex()) == theirs
    assert Hash.from_imagehash(theirs) == h
    assert Hash.from_hex(str(theirs)) == h


@given(u64, u64)
def test_subtraction_across_the_two_types_agrees_with_imagehash(a: int, b: int) -> None:
    x, y = Hash(a), Hash(b)
    ix, iy = imagehash.hex_to_hash(x.hex()), imagehash.hex_to_hash(y.hex())
    expected = ix - iy  # imagehash's own distance
    assert x - y == expected
    assert x - iy == expected
    assert ix - y == expected
    assert (ix - x, x - ix) == (0, 0)


def test_imagehash_of_a_real_image(make_image: object) -> None:
    import io

    from PIL import Image

    picture = Image.open(io.BytesIO(make_image(120, 90)))  # type: ignore[operator]
    theirs = imagehash.phash(picture)
    wide = imagehash.phash(picture, hash_size=16)
    assert Hash.from_imagehash(theirs).hex() == str(theirs)
    assert len(Hash.from_imagehash(wide)) == 256
    assert Hash.from_imagehash(wide).hex() == str(wide)


def test_an_imagehash_of_another_size_is_refused() -> None:
    small = imagehash.ImageHash(np.zeros((4, 4), dtype=bool))
    with pytest.raises(InvalidRequest, match="got 16"):
        Hash.from_imagehash(small)
    with pytest.raises(InvalidRequest, match="got 16"):
        _ = Hash(0) - small
    with pytest.raises(
        InvalidRequest, match=r"expected an imagehash\.ImageHash, got builtins\.str"
    ):
        Hash.from_imagehash("ffd7918181c9ffff")


def test_other_operands_are_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = Hash(0) - 3  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = 3 - Hash(0)  # type: ignore[operator]


def test_imagehash_is_imported_only_when_used() -> None:
    code = (
        "import sys; from imghash import Hash; h = Hash.from_hex('ffd7918181c9ffff'); "
        "h - h; int(h); len(h); h.bits; assert 'imagehash' not in sys.modules; "
        "h.to_imagehash(); assert 'imagehash' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
