"""Shared fixtures: the corpus (found through IMGHASH_CORPUS) and generated images."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def _corpus_dir() -> Path:
    return Path(os.environ.get("IMGHASH_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared test corpus; skipped when absent, a failure when CI requires it."""
    path = _corpus_dir()
    if not (path / "reference" / "jimp-0.22.json").is_file():
        message = f"test corpus not found at {path} (set IMGHASH_CORPUS)"
        if os.environ.get("IMGHASH_REQUIRE_CORPUS") == "1":
            pytest.fail(message + "; IMGHASH_REQUIRE_CORPUS=1 makes this a failure")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def reference(corpus: Path) -> dict[str, dict[str, Any]]:
    """The reference engine's (Jimp 0.22) hashes of every readable corpus file."""
    data: dict[str, dict[str, Any]] = json.loads(
        (corpus / "reference" / "jimp-0.22.json").read_text()
    )
    return data


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


@pytest.fixture
def make_image() -> Callable[..., bytes]:
    """Bytes of a generated picture: ``make_image(width, height, fmt="PNG", seed=0)``."""

    def make(width: int = 96, height: int = 64, fmt: str = "PNG", seed: int = 0) -> bytes:
        return encode(photo_like(width, height, seed), fmt)

    return make
