"""A perceptual hash as a small immutable value: 64 bits, hex in and out."""

from __future__ import annotations

from collections.abc import Iterable

from ._errors import InvalidRequest

__all__ = ["Hash"]

_BITS = 64
_MASK = (1 << _BITS) - 1
_HEXDIGITS = frozenset("0123456789abcdef")


class Hash:
    """A 64-bit perceptual hash.

    The first bit of the row-major bit array is the most significant bit, so
    ``str(h)`` is the familiar 16-digit lowercase hex form. ``h1 - h2`` and
    ``h1.distance(h2)`` give the Hamming distance; :attr:`signed` is the same
    bits as a two's complement int64, for databases.
    """

    __slots__ = ("_value",)
    bits = _BITS

    def __init__(self, value: int) -> None:
        if not 0 <= value <= _MASK:
            raise InvalidRequest(f"a hash is an unsigned {_BITS}-bit integer, got {value}")
        self._value = value

    @classmethod
    def from_hex(cls, text: str) -> Hash:
        """Parse 16 hex digits (case-insensitive, an optional ``0x`` prefix)."""
        digits = text.strip().lower().removeprefix("0x")
        if len(digits) != _BITS // 4 or not set(digits) <= _HEXDIGITS:
            raise InvalidRequest(f"a hash is {_BITS // 4} hex digits, got {text!r}")
        return cls(int(digits, 16))

    @classmethod
    def from_signed(cls, value: int) -> Hash:
        """From the signed int64 form (:attr:`signed`)."""
        if not -(1 << (_BITS - 1)) <= value < (1 << (_BITS - 1)):
            raise InvalidRequest(f"a signed hash is a {_BITS}-bit integer, got {value}")
        return cls(value & _MASK)

    @classmethod
    def from_bits(cls, bits: Iterable[bool]) -> Hash:
        """From the row-major bit array, first bit most significant."""
        value = 0
        count = 0
        for bit in bits:
            value = (value << 1) | bool(bit)
            count += 1
        if count != _BITS:
            raise InvalidRequest(f"a hash has {_BITS} bits, got {count}")
        return cls(value)

    @property
    def value(self) -> int:
        """The bits as an unsigned integer."""
        return self._value

    @property
    def signed(self) -> int:
        """The bits as a signed (two's complement) int64."""
        return self._value - (1 << _BITS) if self._value >> (_BITS - 1) else self._value

    def hex(self) -> str:
        """16 lowercase hex digits."""
        return f"{self._value:016x}"

    def distance(self, other: Hash) -> int:
        """Hamming distance: the number of differing bits, 0 to 64."""
        return (self._value ^ other._value).bit_count()

    def __sub__(self, other: Hash) -> int:
        if not isinstance(other, Hash):
            return NotImplemented
        return self.distance(other)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hash) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __str__(self) -> str:
        return self.hex()

    def __repr__(self) -> str:
        return f"Hash('{self.hex()}')"
