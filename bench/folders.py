"""Folder throughput (issue 9 item 3): `imghash hash DIR` on every core, against one process.

Each contender is a fresh process hashing all three hashes of every image of a folder,
from start to end (imports, worker start-up and output included), as a user runs it.
Two folders: the 36 corpus photos, where the start-up of a process (imports: about a
quarter of a second) weighs on a run of about a second, and the same photos four times
over (144 links), where the steady rate shows. The contenders take turns, so that the load
of a shared machine falls on all alike. Each is timed by the wall clock and by the CPU
time it and its worker processes used; the load average is printed with the figures,
and so is what the machine gave a perfectly parallel job during the same run.

The commands run with Python's bytecode cache (in a scratch folder), as an installed
package does: where ``PYTHONDONTWRITEBYTECODE`` is set and the packages hold no ``.pyc``
files, every process would compile numpy, Pillow and imghash from source first, about
0.4 s more for each process, worker pools' fork servers included.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from common import bytecode_env, table

ROUNDS = 5
COPIES = 4

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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_rounds(
    contenders: dict[str, Callable[[], object]], rounds: int
) -> dict[str, tuple[float, float]]:
    """Median wall seconds and median CPU seconds (the process and the workers it waited
    for) of each contender, the contenders taking turns."""
    for run in contenders.values():
        run()  # warm the disk cache and the bytecode cache
    walls: dict[str, list[float]] = {name: [] for name in contenders}
    cpus: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            cpu, start = _children_cpu(), time.perf_counter()
            run()
            walls[name].append(time.perf_counter() - start)
            cpus[name].append(_children_cpu() - cpu)
    return {
        name: (statistics.median(walls[name]), statistics.median(cpus[name])) for name in contenders
    }


def _folders(photos: Path, scratch: Path) -> dict[str, Path]:
    """The photos, and the photos COPIES times over (symbolic links, distinct names)."""
    many = scratch / "many"
    many.mkdir()
    for copy in range(COPIES):
        for photo in sorted(photos.glob("*.jpg")):
            (many / f"{copy}-{photo.name}").symlink_to(photo)
    return {"36 photos": photos, f"{36 * COPIES} photos": many}


def run(where: Path) -> dict[str, tuple[float, float]]:
    photos = where / "photos"
    imghash = str(Path(sys.executable).with_name("imghash"))
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        env = bytecode_env(scratch)
        folders = _folders(photos, scratch)

        # One process is timed on one thread: a folder's pool spreads images over cores,
        # where one process alone would share each image's grey pass among its threads.
        single = env | {"IMGHASH_THREADS": "1"}

        def command(*args: str, environ: dict[str, str] = env) -> Callable[[], object]:
            return lambda: subprocess.run(args, check=True, capture_output=True, env=environ)

        def index(jobs: str, folder: Path) -> Callable[[], object]:
            def go() -> None:
                db = scratch / f"i{jobs}.db"
                db.unlink(missing_ok=True)
                command(
                    imghash,
                    "index",
                    "--jobs",
                    jobs,
                    "--db",
                    str(db),
                    str(folder),
                    environ=single if jobs == "1" else env,
                )()

            return go

        contenders: dict[str, Callable[[], object]] = {}
        for label, folder in folders.items():
            contenders |= {
                f"{label}: imghash hash DIR (--jobs {cores}, the default)": command(
                    imghash, "hash", str(folder)
                ),
                f"{label}: imghash hash --jobs 1 DIR": command(
                    imghash, "hash", "--jobs", "1", str(folder), environ=single
                ),
                f"{label}: imagehash 4.3, one-process loop": command(
                    sys.executable, "-c", IMAGEHASH_LOOP, str(folder)
                ),
                f"{label}: imghash index DIR (--jobs {cores})": index(str(cores), folder),
                f"{label}: imghash index --jobs 1 DIR": index("1", folder),
            }
        contenders |= {
            "calibration: CPU spin, 1 process": command(sys.executable, "-c", SPIN, "1"),
            f"calibration: CPU spin, {cores} processes": command(
                sys.executable, "-c", SPIN, str(cores)
            ),
        }
        load_before = os.getloadavg()[0]
        figures = timed_rounds(contenders, ROUNDS)
        load_after = os.getloadavg()[0]
    spin_one = figures["calibration: CPU spin, 1 process"][0]
    ceiling = spin_one / figures[f"calibration: CPU spin, {cores} processes"][0]
    print(
        f"#### Folder throughput: all three hashes of every photo, a fresh process from start "
        f"to end, median of {ROUNDS} interleaved runs\n"
    )
    rows: list[Sequence[object]] = []
    for name, (wall, cpu) in figures.items():
        if name.startswith("calibration"):
            continue
        label, command_name = name.split(": ", 1)
        count = int(label.split()[0])
        peer = figures[f"{label}: imagehash 4.3, one-process loop"][0]
        kind = command_name.split()[1]  # hash, index; 4.3 for the peer
        one = figures.get(f"{label}: imghash {kind} --jobs 1 DIR")
        rows.append(
            [
                name,
                f"{wall:.2f} s",
                f"{cpu:.2f} s",
                f"{count / wall:.1f}",
                f"{peer / wall:.2f}x",
                f"{one[0] / wall:.2f}x" if one else "",
                f"{cpu / one[1]:.2f}" if one else "",
            ]
        )
    print(
        table(
            [
                "folder: command",
                "wall",
                "CPU",
                "images/s",
                "vs imagehash loop",
                "vs --jobs 1 (wall)",
                "CPU vs --jobs 1",
            ],
            rows,
        )
    )
    _print_steady(figures, folders)
    print(
        f"\n{cores} cores. Load average {load_before:.1f} before, {load_after:.1f} after. What "
        f"the machine gave a perfectly parallel job in the same run ({cores} processes "
        f"spinning against one): {ceiling:.2f}x; the pool's wall ratios are to be read "
        "against that ceiling, and its CPU column says what the workers cost beyond the "
        "hashing itself (1.00: nothing). The --jobs 1 runs are one process on one thread "
        "(IMGHASH_THREADS=1)."
    )
    return figures


def _print_steady(figures: dict[str, tuple[float, float]], folders: dict[str, Path]) -> None:
    """The rate once a run is going: what the photos the larger folder adds cost.

    Each command's time on the larger folder less its time on the smaller one is what the
    extra photos cost, with every fixed cost of a run (start-up, imports, the pool's start,
    the exit) taken out, as a folder of thousands of photos would see the rate.
    """
    (small, _), (large, _) = folders.items()
    extra = int(large.split()[0]) - int(small.split()[0])
    commands = [name.split(": ", 1)[1] for name in figures if name.startswith(f"{small}: ")]

    def seconds(command: str) -> float:
        return figures[f"{large}: {command}"][0] - figures[f"{small}: {command}"][0]

    if any(seconds(command) <= 0 for command in commands):
        print("\nThe steady rate: not shown, the larger folder was not slower in this run.")
        return
    peer = seconds("imagehash 4.3, one-process loop")
    rows: list[Sequence[object]] = []
    for command in commands:
        kind = command.split()[1]
        one = f"imghash {kind} --jobs 1 DIR"
        rows.append(
            [
                command,
                f"{seconds(command) / extra * 1000:.1f} ms",
                f"{extra / seconds(command):.1f}",
                f"{peer / seconds(command):.2f}x",
                f"{seconds(one) / seconds(command):.2f}x" if one in commands else "",
            ]
        )
    print(
        f"\n#### The steady rate: the {extra} photos the {large} add to the {small} "
        f"(the {large}' wall time less the {small}'), fixed costs of a run left out. A "
        "difference of two medians, it is noisier than either\n"
    )
    print(
        table(
            ["command", "wall per photo", "images/s", "vs imagehash loop", "vs --jobs 1"],
            rows,
        )
    )


if __name__ == "__main__":
    from common import corpus

    run(corpus())
