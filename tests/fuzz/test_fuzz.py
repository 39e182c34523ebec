"""The bounded mutation fuzz of ``make test``, and the replay of saved crashers.

30,000 mutants of seeds in every corpus format (bit flips, truncations, lies in
length, size and count fields, dropped and repeated chunks), hashed in every profile
and mode by two child processes, each under a 1.5 GB address-space cap and a 10 s
limit per input. The mutants are numbered and made from their number, so a failure
names the mutant and ``mutate(seed, number)`` makes it again. No exception other
than ImghashError may escape. ``make fuzz`` runs the long, coverage-guided campaign.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Mutants per child process; two children run side by side.
MUTANTS = 15_000
CHILDREN = 2
#: A generous wall-clock bound for a child (about 20 s on an idle machine).
CHILD_TIMEOUT = 600


def _run(args: list[str], progress: Path) -> dict[str, object]:
    command = [sys.executable, "-m", "tests.fuzz.run", "--progress", str(progress), *args]
    return {
        "process": subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        ),
        "progress": progress,
    }


def _report(child: dict[str, object]) -> dict[str, object]:
    process = child["process"]
    assert isinstance(process, subprocess.Popen)
    progress = child["progress"]
    assert isinstance(progress, Path)
    try:
        out, _ = process.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"a fuzz child hung in C code on {progress.read_text()}")
    assert process.returncode == 0, f"a fuzz child died (code {process.returncode}) on " + (
        progress.read_text() if progress.exists() else "its first input"
    )
    report: dict[str, object] = json.loads(out)
    return report


@pytest.mark.slow
def test_no_exception_escapes_the_mutation_fuzz(corpus: Path, tmp_path: Path) -> None:
    children = [
        _run(
            ["--corpus", str(corpus), "--first", str(n * MUTANTS), "--count", str(MUTANTS)],
            tmp_path / f"progress{n}",
        )
        for n in range(CHILDREN)
    ]
    reports = [_report(child) for child in children]
    assert sum(r["tried"] for r in reports) == CHILDREN * MUTANTS  # type: ignore[misc]
    escapes = [e for r in reports for e in r["escapes"]]  # type: ignore[attr-defined]
    assert not escapes, json.dumps(escapes[:10], indent=1)


def test_saved_crashers_are_replayed(tmp_path: Path) -> None:
    files = sorted(p for p in (HERE / "crashers").iterdir() if p.name != "README.md")
    if not files:
        return  # none saved yet: nothing to replay (make fuzz saves them here)
    child = _run(["--files", *map(str, files)], tmp_path / "progress")
    report = _report(child)
    assert report["tried"] == len(files)
    assert not report["escapes"], json.dumps(report["escapes"], indent=1)
