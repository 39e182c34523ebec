"""What every fuzzer calls: hash some bytes the ways the service does; only ImghashError
may come out. Limits are set low so that the fuzzers exercise the decoders, not the
time it takes to hash a large image (the memory bound has tests of its own)."""

from __future__ import annotations

import contextlib

from imghash import ImghashError, Settings, hash_image
from imghash._decode import inspect_header
from imghash.index._s3 import HEADER_BYTES

__all__ = ["FUZZ_SETTINGS", "VARIANTS", "exercise"]

FUZZ_SETTINGS = Settings(max_pixels=4_000_000, max_frames=200)
#: (profile, fast): every way of decoding and preparing an image.
VARIANTS = (("jimp", False), ("imagehash", False), ("jimp", True))


def exercise(data: bytes, variant: int) -> None:
    """Hash ``data`` one of the ways; raises whatever is not an ImghashError."""
    profile, fast = VARIANTS[variant % len(VARIANTS)]
    with contextlib.suppress(ImghashError):
        inspect_header(data[:HEADER_BYTES], FUZZ_SETTINGS)
    with contextlib.suppress(ImghashError):
        hash_image(data, profile=profile, fast=fast, settings=FUZZ_SETTINGS)
