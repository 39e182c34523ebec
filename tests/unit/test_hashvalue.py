"""The Hash value type: hex and int64 round trips, distance axioms (property tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imghash import Hash, InvalidRequest

u64 = st.integers(0, 2**64 - 1)


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
    with pytest.raises(InvalidRequest, match="64 bits"):
        Hash.from_bits([True] * 63)
