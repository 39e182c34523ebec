"""Helpers shared by the tests: encoding and generated pictures."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

U8 = npt.NDArray[np.uint8]

#: The numpy form of each orientation of ``imghash.DIHEDRAL``, written from its
#: documentation, on the first two axes (so RGB arrays turn too): the tests' oracle.
TURNS: dict[str, Callable[[U8], U8]] = {
    "original": lambda a: a,
    "rotate90": lambda a: np.rot90(a, 1),
    "rotate180": lambda a: np.rot90(a, 2),
    "rotate270": lambda a: np.rot90(a, 3),
    "flipx": lambda a: a[::-1],
    "flipy": lambda a: a[:, ::-1],
    "flipplus1": lambda a: np.swapaxes(a, 0, 1),
    "flipminus1": lambda a: np.swapaxes(np.rot90(a, 2), 0, 1),
}


def encode(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    """Encode a Pillow image to bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def photo_like(width: int = 96, height: int = 64, seed: int = 0) -> Image.Image:
    """A smooth, structured RGB test picture (gradients plus a few blobs)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6.3)
        wave = np.sin(fx * x / width * 6.28 + phase) * np.cos(fy * y / height * 6.28)
        channels.append(127.5 + 110 * wave)
    pixels = np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def need(available: bool, reason: str) -> None:
    """Skip a test whose real part (a browser, qemu, PostgreSQL...) is missing, saying why.

    In CI (``IMGHASH_CI=1``, set by ``.ci/run``, which installs every part) a missing
    part is a failure instead: a skip there would turn red into green.
    """
    import os

    import pytest

    if available:
        return
    if os.environ.get("IMGHASH_CI") == "1":
        pytest.fail(f"{reason}; IMGHASH_CI=1 makes a missing part a failure")
    pytest.skip(reason)
