"""Cold import time of imghash beyond numpy and Pillow, fresh processes (DESIGN §9)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import bytecode_env, table

CHILD = """
import time
t0 = time.perf_counter()
import numpy, PIL.Image
t1 = time.perf_counter()
{statement}
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""
RUNS = 7
STATEMENTS = {
    "imghash (the package face, lazy)": "import imghash",
    "imghash, all that hashing needs": "import imghash._hashing, imghash._pixels, imghash._bits",
    "imghash.cli": "import imghash.cli",
}


def _measure(statement: str, env: dict[str, str]) -> tuple[float, float]:
    base, extra = [], []
    for run in range(RUNS + 1):  # the first fills the bytecode cache and is not counted
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(statement=statement)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        if run:
            a, b = (float(x) for x in out.stdout.split())
            base.append(a)
            extra.append(b)
    return statistics.median(base), statistics.median(extra)


def run() -> dict[str, float]:
    rows, found = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        env = bytecode_env(Path(scratch))
        measured = {label: _measure(statement, env) for label, statement in STATEMENTS.items()}
    for label, (base, extra) in measured.items():
        found[label] = extra
        rows.append([label, f"{base * 1000:.0f} ms", f"{extra * 1000:.1f} ms"])
    print(f"### Cold import, median of {RUNS} fresh processes\n")
    print(table(["import", "numpy + Pillow", "then imghash's own modules"], rows))
    return found
