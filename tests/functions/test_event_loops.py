"""No test fails for an event loop an earlier test left unclosed (tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A handler test, then a test during which the garbage collector happens to run: what
# made a WEBP decode test fail once in a while.
TESTS = """
import asyncio
import gc
import json

from tests.functions.test_handlers import Context, handler_module, load


def test_a_handler_then_asyncio_run():
    event = load("meta_get.json")
    assert handler_module("meta").handler(event, Context())["statusCode"] == 200
    asyncio.run(asyncio.sleep(0))  # replaces the loop Mangum made


def test_the_collector_runs_here():
    gc.collect()
"""


def run_inner(tmp_path: Path, *plugins: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(TESTS)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "pyproject.toml"]
        + [arg for plugin in plugins for arg in ("-p", plugin)]
        + ["--rootdir", str(ROOT), str(tmp_path / "test_inner.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_loop_left_by_a_handler_test_fails_no_later_test(tmp_path: Path) -> None:
    bare = run_inner(tmp_path)  # without the suite's fixtures: the failure, reproduced
    assert "1 failed, 1 passed" in bare.stdout, bare.stdout + bare.stderr
    assert "test_the_collector_runs_here" in bare.stdout
    assert "unclosed" in bare.stdout
    fixed = run_inner(tmp_path, "tests.conftest")  # with them, as the suite runs
    assert "2 passed" in fixed.stdout, fixed.stdout + fixed.stderr
