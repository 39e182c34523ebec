"""Hashing speed and peak memory against imagehash 4.3 and OpenCV's img_hash (DESIGN §9)."""

from __future__ import annotations

import io
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import table

ROUNDS = 7

CONTENDERS = {
    # As a caller gets it: the grey pass shares its row blocks among one thread per core.
    "imghash exact": (
        "import imghash, imghash._hashing, imghash._pixels, imghash._bits",
        "imghash.hash_image(data)",
    ),
    # As a folder's worker process or a one-vCPU Lambda function runs it.
    "imghash exact, 1 thread": (
        "import imghash, imghash._hashing, imghash._pixels, imghash._bits\n"
        "one = imghash.Settings(threads=1)",
        "imghash.hash_image(data, settings=one)",
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
    # Not a peer: what bounds fast mode. The same reduced decode fast mode makes (the
    # same libjpeg-turbo call, at least 128 pixels a side), whole on one thread, and nothing
    # else (fast mode decodes a file with restart markers in parts, on every core).
    "fast mode's decode alone": (
        "import simplejpeg",
        "simplejpeg.decode_jpeg(data, colorspace='RGB', min_width=128, min_height=128)",
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


def _interleaved(
    contenders: dict[str, Callable[[], object]], rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU seconds per call, the contenders taking turns.

    CPU time (this process's) is what a shared, loaded machine distorts least for the
    single-threaded contenders; wall time is what a caller waits.
    """
    for call in contenders.values():
        call()  # warm caches and lazy imports
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, call in contenders.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
    return (
        {n: statistics.median(v) for n, v in wall.items()},
        {n: statistics.median(v) for n, v in cpu.items()},
    )


def run(corpus: Path) -> dict[str, object]:
    photos = sorted((corpus / "photos").glob("large_*.jpg"))
    rows = []
    totals: dict[str, float] = {name: 0.0 for name in CONTENDERS}
    cpu_totals: dict[str, float] = {name: 0.0 for name in CONTENDERS}
    for path in photos:
        medians, cpu = _interleaved(_callables(path.read_bytes()), ROUNDS)  # type: ignore[arg-type]
        for name, seconds in medians.items():
            totals[name] += seconds
            cpu_totals[name] += cpu[name]
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
    from imghash._threads import image_threads

    print(
        "### Hashing speed: all three hashes from the bytes, median of "
        f"{ROUNDS} interleaved runs (speed-up against imagehash)\n"
    )
    print(f"imghash exact's grey pass ran on {image_threads(0)} threads, one per core.\n")
    print(table(["photo", *CONTENDERS], rows))
    cpu_base = cpu_totals["imagehash 4.3"]
    print(
        "\nCPU time of the same calls, all six: "
        + ", ".join(
            f"{n} {cpu_totals[n] * 1000:.0f} ms ({cpu_base / cpu_totals[n]:.1f}x)"
            for n in CONTENDERS
        )
    )

    twelve = corpus / "photos" / "large_4032x3024.jpg"
    peaks = {name: _peak_mb(twelve, *code) for name, code in CONTENDERS.items()}
    print(f"\n### Peak memory added by hashing the 12 MP photo ({twelve.name}), fresh process\n")
    print(table(["contender", "peak MB added"], [[n, f"{mb:.0f}"] for n, mb in peaks.items()]))
    worst = _worst_cases()
    return {
        "speedup": {n: base / totals[n] for n in CONTENDERS},
        "cpu_speedup": {n: cpu_base / cpu_totals[n] for n in CONTENDERS},
        "peak_mb": peaks,
        "worst_mb": worst,
    }


# The inputs of issue 10, made here (never committed): each hashed in a fresh process.
WORST_CASES = {
    "50 MP flat grey PNG (7071x7071)": (
        "from PIL import Image\n"
        "Image.new('RGB', (7071, 7071), (128, 128, 128)).save(sys.argv[1], 'PNG')"
    ),
    "21 MP grey JPEG (640x32768)": (
        "import numpy as np\nfrom PIL import Image\n"
        "g = np.linspace(0, 255, 32768)[:, None] + np.random.default_rng(1).normal(0, 2, "
        "(32768, 640))\n"
        "Image.fromarray(g.clip(0, 255).astype(np.uint8), 'L').convert('RGB')"
        ".save(sys.argv[1], 'JPEG', quality=30)"
    ),
}


def _worst_cases() -> dict[str, dict[str, float]]:
    """Peak memory and time of the worst inputs within the limits, per profile and mode."""
    found: dict[str, dict[str, float]] = {}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, make in WORST_CASES.items():
            path = Path(folder) / "input"
            subprocess.run([sys.executable, "-c", "import sys\n" + make, str(path)], check=True)
            for algorithms, profile, fast in itertools.product(
                ("all", "all,pdq"), ("jimp", "imagehash"), (False, True)
            ):
                statement = (
                    "import time; t = time.perf_counter(); "
                    f"imghash.hash_image(data, algorithms={algorithms!r}, profile={profile!r}, "
                    f"fast={fast}); "
                    "print('seconds', time.perf_counter() - t, file=sys.stderr)"
                )
                setup = "import sys, imghash, imghash._hashing, imghash._pixels"
                mb, seconds = _peak_and_time(path, setup, statement)
                mode = "fast" if fast else "exact"
                found[f"{label}, {algorithms}, {profile}, {mode}"] = {
                    "peak_mb": mb,
                    "seconds": seconds,
                }
                rows.append([label, algorithms, profile, mode, f"{mb:.0f}", f"{seconds:.2f}"])
    print("\n### Worst cases within the default limits: peak MB added and seconds, fresh process\n")
    print(table(["input", "algorithms", "profile", "mode", "peak MB added", "seconds"], rows))
    return found


def _peak_and_time(path: Path, setup: str, statement: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", PEAK_CHILD.format(setup=setup, statement=statement), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = float(out.stderr.split("seconds")[-1].strip())
    return float(out.stdout.strip()), seconds


if __name__ == "__main__":
    from common import corpus

    print(json.dumps(run(corpus()), indent=1))
