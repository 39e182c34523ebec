"""Memory grows with the pixels: images at the default pixel limit hash under an address-space cap.

Issue 10: a 7000x7000 flat grey PNG took 2.8 GB (every neutral pixel went through a
float64 fix-up of the whole image) and a 640x32768 grey JPEG 1.23 GB. Each input below is
hashed in every profile and mode, by every algorithm (PDQ too, whose luminance is a
float32 plane, and with its dihedral hashes), in a fresh process whose address space is
capped at 1.5 GB (RLIMIT_AS; the functions have 1,769 MB), with a generous timeout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CAP = 1536 * 1024 * 1024
SIDE = 7071  # 7071 x 7071 = 49,999,041 pixels: the default limit is 50,000,000

CHILD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
import imghash
from imghash._settings import Settings

data = open(sys.argv[1], "rb").read()
# The byte limit is not under test: a 50 MP noise image is far over 20 MB encoded.
settings = Settings(max_bytes=len(data) + 1)
results = {{}}
for profile in ("jimp", "imagehash"):
    for fast in (False, True):
        start = time.perf_counter()
        result = imghash.hash_image(
            data, algorithms="all,pdq", profile=profile, fast=fast, settings=settings,
            dihedral=True,
        )
        results[f"{{profile}} fast={{fast}}"] = [result.hex(), time.perf_counter() - start]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({{"results": results, "peak_mb": peak}}))
"""


def flat_grey(path: Path) -> None:
    Image.new("RGB", (SIDE, SIDE), (128, 128, 128)).save(path, "PNG")


def noise(path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, "JPEG", quality=20)


def grey_and_alpha(path: Path) -> None:
    ramp = np.linspace(0, 255, SIDE).astype(np.uint8)
    pixels = np.empty((SIDE, SIDE, 2), dtype=np.uint8)
    pixels[..., 0] = ramp[None, :]
    pixels[..., 1] = ramp[:, None]  # alpha from fully transparent to opaque
    Image.fromarray(pixels, "LA").save(path, "PNG")


def tall_grey_jpeg(path: Path) -> None:
    # The reproducer: a small JPEG declaring 640x32768 of neutral grey.
    rng = np.random.default_rng(1)
    level = np.linspace(0, 255, 32768)[:, None] + rng.normal(0, 2, (32768, 640))
    grey = level.clip(0, 255).astype(np.uint8)
    Image.fromarray(grey, "L").convert("RGB").save(path, "JPEG", quality=30)


@pytest.mark.slow
@pytest.mark.parametrize("make", [flat_grey, noise, grey_and_alpha, tall_grey_jpeg])
def test_hashes_within_the_memory_cap(tmp_path: Path, make: Callable[[Path], None]) -> None:
    path = tmp_path / "input"
    make(path)
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(cap=CAP), str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert len(report["results"]) == 4
    for hashes, _seconds in report["results"].values():
        assert list(hashes) == ["ahash", "dhash", "phash", "pdq"]
    print(make.__name__, report)  # the peak and times, for the README's limits table
