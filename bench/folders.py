"""Folder throughput (issue 9 item 3): `imghash hash DIR` on every core, against one process.

Each contender is a fresh process hashing all three hashes of every corpus photo, from
start to end (imports, worker start-up and output included), as a user runs it. The
contenders take turns, so that the load of a shared machine falls on all alike; the
load average is printed with the figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import interleaved_medians, table

ROUNDS = 5

# The peer: the imagehash library in a plain one-process loop over the same files.
IMAGEHASH_LOOP = """
import sys
from pathlib import Path
import imagehash
from PIL import Image
for path in sorted(Path(sys.argv[1]).glob("*.jpg")):
    with Image.open(path) as image:
        print(imagehash.average_hash(image), imagehash.dhash(image), imagehash.phash(image))
"""


# What the machine gives a perfectly parallel job right now: the ceiling for the pool.
SPIN = """
import sys
from concurrent.futures import ProcessPoolExecutor
def spin(n):
    total = 0
    for i in range(2_000_000):
        total += i
    return total
if __name__ == "__main__":
    jobs = int(sys.argv[1])
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(spin, range(8)))
"""


def run(where: Path) -> dict[str, float]:
    photos = where / "photos"
    count = len(list(photos.glob("*.jpg")))
    imghash = str(Path(sys.executable).with_name("imghash"))
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as scratch:

        def command(*args: str) -> object:
            return lambda: subprocess.run(args, check=False, capture_output=True)

        def index(jobs: str) -> object:
            def go() -> None:
                db = Path(scratch) / f"i{jobs}.db"
                db.unlink(missing_ok=True)
                subprocess.run(
                    [imghash, "index", "--jobs", jobs, "--db", str(db), str(photos)],
                    check=True,
                    capture_output=True,
                )

            return go

        contenders = {
            f"imghash hash DIR (--jobs {cores}, the default)": command(
                imghash, "hash", str(photos)
            ),
            "imghash hash --jobs 1 DIR": command(imghash, "hash", "--jobs", "1", str(photos)),
            "imagehash 4.3, one-process loop": command(
                sys.executable, "-c", IMAGEHASH_LOOP, str(photos)
            ),
            f"imghash index DIR (--jobs {cores})": index(str(cores)),
            "imghash index --jobs 1 DIR": index("1"),
            "calibration: CPU spin, 1 process": command(sys.executable, "-c", SPIN, "1"),
            f"calibration: CPU spin, {cores} processes": command(
                sys.executable, "-c", SPIN, str(cores)
            ),
        }
        load_before = os.getloadavg()[0]
        medians = interleaved_medians(contenders, ROUNDS)  # type: ignore[arg-type]
        load_after = os.getloadavg()[0]
    ceiling = (
        medians["calibration: CPU spin, 1 process"]
        / medians[f"calibration: CPU spin, {cores} processes"]
    )
    peer = medians["imagehash 4.3, one-process loop"]
    one = medians["imghash hash --jobs 1 DIR"]
    rows = [
        [
            name,
            f"{seconds:.2f} s",
            f"{count / seconds:.1f}",
            f"{peer / seconds:.2f}x",
            f"{one / seconds:.2f}x" if name.startswith("imghash hash") else "",
        ]
        for name, seconds in medians.items()
        if not name.startswith("calibration")
    ]
    print(
        f"#### Folder throughput: the {count} corpus photos (6 of them 3-12 MP), all three "
        f"hashes, a fresh process from start to end, median of {ROUNDS} interleaved runs\n"
    )
    print(
        table(
            ["command", "time", "images/s", "vs imagehash loop", "vs --jobs 1"],
            rows,
        )
    )
    index_ratio = (
        medians["imghash index --jobs 1 DIR"] / medians[f"imghash index DIR (--jobs {cores})"]
    )
    print(
        f"\n{cores} cores; `index` with every core: {index_ratio:.2f}x `--jobs 1`. "
        f"Load average {load_before:.1f} before, {load_after:.1f} after. What the machine "
        f"gave a perfectly parallel job in the same run ({cores} processes spinning against "
        f"one): {ceiling:.2f}x; the pool's ratios are to be read against that ceiling."
    )
    return medians
