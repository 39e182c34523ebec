"""Hashing speed and peak memory against imagehash 4.3 and OpenCV's img_hash (DESIGN §9)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from common import interleaved_medians, table

ROUNDS = 7

CONTENDERS = {
    "imghash exact": (
        "import imghash, imghash._hashing, imghash._pixels, imghash._bits",
        "imghash.hash_image(data)",
    ),
    "imghash fast": (
        "import imghash, imghash._hashing, imghash._pixels, imghash._bits",
        "imghash.hash_image(data, fast=True)",
    ),
    "imagehash 4.3": (
        "import io, imagehash, scipy.fftpack\nfrom PIL import Image",
        "im = Image.open(io.BytesIO(data)); imagehash.average_hash(im); imagehash.dhash(im); "
        "imagehash.phash(im)",
    ),
    "OpenCV img_hash": (
        "import cv2, numpy as np\n"
        "a, p = cv2.img_hash.AverageHash_create(), cv2.img_hash.PHash_create()",
        "img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR); "
        "a.compute(img); p.compute(img)",
    ),
}


def _callables(data: bytes) -> dict[str, object]:
    made = {}
    for name, (setup, statement) in CONTENDERS.items():
        scope: dict[str, object] = {"data": data, "io": io}
        exec(setup, scope)
        code = compile(statement, name, "exec")
        made[name] = lambda code=code, scope=scope: exec(code, scope)
    return made


# The child measures itself: a forked process inherits its parent's peak RSS, so
# ru_maxrss would report the benchmark's own size. Linux lets a process reset its
# high-water mark (clear_refs 5) and read it back (VmHWM).
PEAK_CHILD = """
import sys
data = open(sys.argv[1], 'rb').read()
{setup}
def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')
before = status('VmRSS:')
{statement}
print(status('VmHWM:') - before)
"""


def _peak_mb(path: Path, setup: str, statement: str) -> float:
    """Peak resident memory that hashing adds over importing, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK_CHILD.format(setup=setup, statement=statement), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def run(corpus: Path) -> dict[str, object]:
    photos = sorted((corpus / "photos").glob("large_*.jpg"))
    rows = []
    totals: dict[str, float] = {name: 0.0 for name in CONTENDERS}
    for path in photos:
        medians = interleaved_medians(_callables(path.read_bytes()), ROUNDS)  # type: ignore[arg-type]
        for name, seconds in medians.items():
            totals[name] += seconds
        base = medians["imagehash 4.3"]
        rows.append(
            [path.name]
            + [f"{medians[n] * 1000:.0f} ms ({base / medians[n]:.1f}x)" for n in CONTENDERS]
        )
    base = totals["imagehash 4.3"]
    rows.append(
        ["**all six**"]
        + [f"**{totals[n] * 1000:.0f} ms ({base / totals[n]:.1f}x)**" for n in CONTENDERS]
    )
    print(
        "### Hashing speed: all three hashes from the bytes, median of "
        f"{ROUNDS} interleaved runs (speed-up against imagehash)\n"
    )
    print(table(["photo", *CONTENDERS], rows))

    twelve = corpus / "photos" / "large_4032x3024.jpg"
    peaks = {name: _peak_mb(twelve, *code) for name, code in CONTENDERS.items()}
    print(f"\n### Peak memory added by hashing the 12 MP photo ({twelve.name}), fresh process\n")
    print(table(["contender", "peak MB added"], [[n, f"{mb:.0f}"] for n, mb in peaks.items()]))
    return {"speedup": {n: base / totals[n] for n in CONTENDERS}, "peak_mb": peaks}


if __name__ == "__main__":
    from common import corpus

    print(json.dumps(run(corpus()), indent=1))
