"""``--jobs``: folders hashed in worker processes give the same output, in the same order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import imghash
from tests.helpers import encode, photo_like

IMGHASH = Path(sys.executable).with_name("imghash")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pictures = tmp_path_factory.mktemp("jobs")
    (pictures / "sub").mkdir()
    for seed in range(9):
        where = pictures / ("sub" if seed % 3 == 0 else ".")
        (where / f"p{seed}.png").write_bytes(encode(photo_like(200, 150, seed=seed), "PNG"))
    copy = photo_like(200, 150, seed=4).resize((100, 75), Image.Resampling.BILINEAR)
    (pictures / "p4-copy.jpg").write_bytes(encode(copy, "JPEG", quality=80))
    (pictures / "p5.gif").write_bytes(b"GIF89a truncated")  # a bad file in the middle
    return pictures


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IMGHASH), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_hash_output_is_the_same_for_any_number_of_jobs(folder: Path) -> None:
    expected = []
    for path in sorted(str(p) for p in folder.rglob("*") if p.is_file()):
        try:
            expected.append({"source": path, **imghash.hash_image(path).hex()})
        except imghash.ImghashError as err:
            expected.append({"source": path, "error": err.to_dict()})
    for jobs in ("1", "2", "3"):
        done = run("hash", "--json", "--jobs", jobs, str(folder))
        assert done.returncode == 1  # the bad file: reported, and the rest go on
        assert [json.loads(line) for line in done.stdout.splitlines()] == expected


def test_index_and_dupes_are_the_same_for_any_number_of_jobs(folder: Path, tmp_path: Path) -> None:
    answers = {}
    for jobs in ("1", "2"):
        db = tmp_path / f"index-{jobs}.db"
        index = run("index", "--json", "--jobs", jobs, "--db", str(db), str(folder))
        assert index.returncode == 0, index.stderr
        dupes = run("dupes", "--json", "--jobs", jobs, str(folder))
        assert dupes.returncode == 1
        answers[jobs] = (index.stdout, dupes.stdout)
    assert answers["1"] == answers["2"]
    lines = [json.loads(line) for line in answers["1"][1].splitlines()]
    assert [line["source"] for line in lines if "error" in line] == [str(folder / "p5.gif")]
    groups = [line["group"] for line in lines if "group" in line]
    assert groups == [[str(folder / "p4-copy.jpg"), str(folder / "p4.png")]]


@pytest.mark.parametrize("jobs", ["0", "-2", "many"])
def test_jobs_must_be_a_positive_number(jobs: str) -> None:
    done = run("hash", "--jobs", jobs, ".")
    assert done.returncode == 2
    assert "usage: imghash hash" in done.stderr


# With standard error on a pseudo-terminal, as in a user's shell: the progress bar drawn,
# then the start method the worker pool would use.
BAR_THEN_POOL = """
import argparse, os, pty, sys, threading
main_fd, child_fd = pty.openpty()
os.dup2(child_fd, 2)
sys.stderr = open(2, "w", closefd=False)
from imghash._cli_io import Console
from imghash._folders import hash_task
from imghash._parallel import _context
with Console(argparse.Namespace(json=False), total=5) as console:
    assert console._bar is not None, "no bar on a terminal"
    print(threading.active_count(), _context(hash_task).get_start_method())
"""


def test_the_progress_bar_leaves_the_workers_forked() -> None:
    """In a terminal the bar runs no thread of its own: the pool forks its workers ready
    (numpy and Pillow imported) rather than starting them from a fork server, which
    made --jobs 2 slower than --jobs 1 on a folder of 36 photos."""
    done = subprocess.run(
        [sys.executable, "-c", BAR_THEN_POOL],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "fork"]
