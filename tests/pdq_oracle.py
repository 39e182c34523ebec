"""Meta's C++ PDQ reference, through the PyPI ``pdqhash`` binding, as the tests' oracle."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pdqhash

from imghash._pdq import PdqHash


def _as_int(bits: npt.NDArray[np.integer]) -> int:
    """pdqhash's bit vector (most significant first, as the hex form) as an int."""
    return int.from_bytes(np.packbits(bits.astype(np.uint8)).tobytes(), "big")


def oracle_hash(rgb: npt.NDArray[np.uint8]) -> PdqHash:
    """``pdqhash.compute``: the reference's hash and quality of an RGB array."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return PdqHash(_as_int(bits), int(quality))


def oracle_dihedral(rgb: npt.NDArray[np.uint8]) -> list[PdqHash]:
    """``pdqhash.compute_dihedral``: the reference's eight hashes of an RGB array."""
    hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
    return [PdqHash(_as_int(bits), int(quality)) for bits in hashes]
