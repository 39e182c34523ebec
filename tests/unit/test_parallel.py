"""Worker processes: results in the items' order, and a dying worker costs only its item."""

from __future__ import annotations

import os
import time

import pytest

from imghash._parallel import WorkerDied, run_ordered


def slow_square(n: int) -> int:
    time.sleep(0.02 * (n % 3))  # finish out of order
    return n * n


def square_or_die(n: int) -> tuple[int, int]:
    if n == 5:
        os._exit(3)  # as a worker killed for memory, or crashed in a decoder
    return n, os.getpid()


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_come_in_the_items_order(jobs: int) -> None:
    assert list(run_ordered(slow_square, range(12), jobs)) == [n * n for n in range(12)]


def test_one_job_runs_in_this_process() -> None:
    assert {pid for _, pid in run_ordered(square_or_die, [1, 2, 3], 1)} == {os.getpid()}


def test_workers_are_other_processes() -> None:
    pids = {pid for _, pid in run_ordered(square_or_die, range(5), 2)}  # type: ignore[misc]
    assert os.getpid() not in pids


def test_a_dying_worker_costs_only_its_item() -> None:
    outcomes = list(run_ordered(square_or_die, range(10), 2))
    assert isinstance(outcomes[5], WorkerDied)
    assert "5" in str(outcomes[5])
    others = [o for i, o in enumerate(outcomes) if i != 5]
    assert [o[0] for o in others] == [0, 1, 2, 3, 4, 6, 7, 8, 9]  # type: ignore[index]


# A process that runs another thread (a server, a threaded application) asks for a pool.
THREADED_POOL = """
import multiprocessing.forkserver, threading
from imghash._folders import hash_task
from imghash._parallel import _context
threading.Thread(target=threading.Event().wait, daemon=True).start()
context = _context(hash_task)
print(context.get_start_method(), *multiprocessing.forkserver._forkserver._preload_modules)
"""


def test_with_threads_running_workers_come_from_a_warm_fork_server() -> None:
    """Forking a threaded process may deadlock: its workers come from a fork server, which
    imports the task's module (numpy, Pillow, imghash) once, before the first worker."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", THREADED_POOL],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["forkserver", "__main__", "imghash._folders"]
