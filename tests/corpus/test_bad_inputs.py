"""Every file of the corpus's bad/ folder is refused with its code; bombs before decoding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import imghash

EXPECTED = {
    "empty.jpg": "unsupported_image",
    "truncated.jpg": "unsupported_image",
    "random.bin": "unsupported_image",
    "not_an_image.html": "unsupported_image",
    "vector.svg": "unsupported_image",
    "document.pdf": "unsupported_image",
    "bomb_40000x40000.png": "too_large",
    "bomb_12000x12000_rgb.png": "too_large",
    "lying_header_100000x100000.png": "too_large",
    "many_frames_2000.gif": "too_large",
}
BOMBS = [
    "bomb_40000x40000.png",
    "bomb_12000x12000_rgb.png",
    "lying_header_100000x100000.png",
    "many_frames_2000.gif",
]
MEMORY_CAP = 1024 * 1024 * 1024  # address space for the child: numpy's import alone maps a lot
PEAK_LIMIT_MB = 200


def test_the_table_covers_the_folder(corpus: Path) -> None:
    names = {p.name for p in (corpus / "bad").iterdir()}
    assert names == set(EXPECTED) | {"png_named.jpg"}


@pytest.mark.parametrize(("name", "code"), sorted(EXPECTED.items()))
def test_refused_with_its_code(corpus: Path, name: str, code: str) -> None:
    with pytest.raises(imghash.ImghashError) as info:
        imghash.hash_image(corpus / "bad" / name)
    assert info.value.code == code
    assert info.value.message
    assert "Traceback" not in info.value.message


def test_png_named_jpg_is_sniffed(corpus: Path) -> None:
    result = imghash.hash_image(corpus / "bad" / "png_named.jpg")
    assert result.format == "png"


# The child measures itself: a forked process inherits its parent's peak RSS, so
# it resets its high-water mark (clear_refs 5) and reads it back (VmHWM).
CHILD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
import imghash
def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')
before = status('VmRSS:')
start = time.perf_counter()
try:
    imghash.hash_image(sys.argv[1])
    code = None
except imghash.ImghashError as err:
    code = err.code
seconds = time.perf_counter() - start
print(json.dumps({{"code": code, "seconds": seconds, "peak_mb": status('VmHWM:'),
                  "grown_mb": status('VmHWM:') - before}}))
"""


@pytest.mark.parametrize("name", BOMBS)
def test_bombs_are_refused_before_decoding(corpus: Path, name: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", CHILD.format(cap=MEMORY_CAP), str(corpus / "bad" / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["code"] == "too_large"
    assert report["seconds"] < 1.0
    assert report["peak_mb"] < PEAK_LIMIT_MB
