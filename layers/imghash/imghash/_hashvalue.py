"""A perceptual hash as a small immutable value: 64 or 256 bits, hex in and out."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._errors import InvalidRequest

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["DEFAULT_WIDTH", "WIDTHS", "Hash"]

#: Widths a hash may have, in bits: 64 for aHash, dHash and pHash, 256 for PDQ.
WIDTHS = (64, 256)
DEFAULT_WIDTH = 64
_HEXDIGITS = frozenset("0123456789abcdef")


def _check_width(width: int) -> None:
    if width not in WIDTHS:
        raise InvalidRequest(f"a hash is 64 or 256 bits wide, not {width}")


class Hash:
    """A perceptual hash of 64 bits (aHash, dHash, pHash) or 256 bits (PDQ).

    The first bit of the row-major bit array is the most significant bit, so
    ``str(h)`` is the familiar lowercase hex form (16 or 64 digits). ``h1 - h2``
    and ``h1.distance(h2)`` give the Hamming distance; :attr:`signed` is the same
    bits in two's complement (an int64 for 64 bits), for databases. ``int(h)``
    is the unsigned value, ``len(h)`` the width in bits and :attr:`bits` the bit
    array. ``imagehash.ImageHash`` values convert both ways and subtract either way.
    """

    __slots__ = ("_value", "_width")

    def __init__(self, value: int, width: int = DEFAULT_WIDTH) -> None:
        _check_width(width)
        if not 0 <= value < (1 << width):
            raise InvalidRequest(f"a hash is an unsigned {width}-bit integer, got {value}")
        self._value = value
        self._width = width

    @classmethod
    def from_hex(cls, text: str) -> Hash:
        """Parse 16 (64 bits) or 64 (256 bits) hex digits; case-insensitive, ``0x`` allowed."""
        digits = text.strip().lower().removeprefix("0x")
        if len(digits) * 4 not in WIDTHS or not set(digits) <= _HEXDIGITS:
            raise InvalidRequest(
                f"a hash is 16 hex digits (64 bits) or 64 hex digits (256 bits), got {text!r}"
            )
        return cls(int(digits, 16), len(digits) * 4)

    @classmethod
    def from_signed(cls, value: int, width: int = DEFAULT_WIDTH) -> Hash:
        """From the signed two's complement form (:attr:`signed`)."""
        _check_width(width)
        if not -(1 << (width - 1)) <= value < (1 << (width - 1)):
            raise InvalidRequest(f"a signed hash is a {width}-bit integer, got {value}")
        return cls(value & ((1 << width) - 1), width)

    @classmethod
    def from_bits(cls, bits: Iterable[Any]) -> Hash:
        """From the row-major bit array (64 or 256 truthy values), first bit most significant.

        A 2-D numpy array (imagehash's 8x8 form) is read row by row.
        """
        ravel = getattr(bits, "ravel", None)
        flat: Iterable[Any] = ravel().tolist() if callable(ravel) else bits
        value = 0
        count = 0
        for bit in flat:
            value = (value << 1) | bool(bit)
            count += 1
        if count not in WIDTHS:
            raise InvalidRequest(f"a hash has 64 or 256 bits, got {count}")
        return cls(value, count)

    @classmethod
    def from_imagehash(cls, other: Any) -> Hash:
        """From an ``imagehash.ImageHash`` of 64 or 256 bits (hash_size 8 or 16)."""
        array = getattr(other, "hash", None)
        if array is None or not hasattr(array, "ravel"):
            raise InvalidRequest(
                f"expected an imagehash.ImageHash, got {type(other).__module__}."
                f"{type(other).__qualname__}"
            )
        return cls.from_bits(array)

    def to_imagehash(self) -> Any:
        """This hash as an ``imagehash.ImageHash`` (a square bit array; needs imagehash)."""
        try:
            import imagehash
        except ImportError:
            raise InvalidRequest(
                "to_imagehash needs the imagehash package: pip install imagehash"
            ) from None
        return imagehash.ImageHash(self.hash)

    @property
    def value(self) -> int:
        """The bits as an unsigned integer."""
        return self._value

    @property
    def width(self) -> int:
        """The number of bits: 64, or 256 for PDQ."""
        return self._width

    @property
    def signed(self) -> int:
        """The bits as a signed (two's complement) integer: an int64 for 64 bits."""
        top = 1 << (self._width - 1)
        return self._value - (top << 1) if self._value & top else self._value

    @property
    def bits(self) -> npt.NDArray[np.bool_]:
        """The row-major bit array (numpy bool, ``len(h)`` long), first bit most significant."""
        import numpy as np

        raw = np.frombuffer(self._value.to_bytes(self._width // 8, "big"), dtype=np.uint8)
        return np.unpackbits(raw).astype(bool)

    @property
    def hash(self) -> npt.NDArray[np.bool_]:
        """The bits as a square array (8x8 or 16x16), the shape ``imagehash.ImageHash`` holds.

        This is what lets ``imagehash.ImageHash - Hash`` work: imagehash reads ``.hash``.
        """
        side = math.isqrt(self._width)
        return self.bits.reshape(side, side)

    def hex(self) -> str:
        """Lowercase hex digits: 16 for 64 bits, 64 for 256 bits."""
        return f"{self._value:0{self._width // 4}x}"

    def distance(self, other: Hash) -> int:
        """Hamming distance: the number of differing bits, 0 to the width."""
        if other._width != self._width:
            raise InvalidRequest(
                f"cannot compare a {self._width}-bit hash with a {other._width}-bit hash"
            )
        return (self._value ^ other._value).bit_count()

    def __sub__(self, other: object) -> int:
        if isinstance(other, Hash):
            return self.distance(other)
        if _is_imagehash(other):
            return self.distance(Hash.from_imagehash(other))
        return NotImplemented

    def __rsub__(self, other: object) -> int:
        if _is_imagehash(other):
            return Hash.from_imagehash(other).distance(self)
        return NotImplemented

    def __int__(self) -> int:
        return self._value

    def __len__(self) -> int:
        return self._width

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Hash) and other._value == self._value and other._width == self._width
        )

    def __hash__(self) -> int:
        return hash((self._value, self._width))

    def __str__(self) -> str:
        return self.hex()

    def __repr__(self) -> str:
        return f"Hash('{self.hex()}')"


def _is_imagehash(value: object) -> bool:
    """Whether ``value`` is an ``imagehash.ImageHash`` (checked without importing imagehash)."""
    kind = type(value)
    return kind.__name__ == "ImageHash" and kind.__module__.split(".")[0] == "imagehash"
