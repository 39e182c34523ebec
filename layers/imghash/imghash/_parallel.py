"""Running one task per item in worker processes, one per core, results in the items' order.

Hashing is CPU-bound Python and numpy work that holds the GIL for much of its time, so a
folder is spread over processes, not threads. The results come back in the order of the
items whatever order the workers finish in, so output stays deterministic. A worker that
dies (killed for memory, a crash in a decoder) costs only the item it was working on: the
items that were in flight with it are tried again one at a time in a fresh pool, so that
exactly the item that kills a worker is reported, and the rest go on.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

__all__ = ["WorkerDied", "default_jobs", "run_ordered"]

T = TypeVar("T")
R = TypeVar("R")

#: Items in flight per worker: enough to keep every worker busy, few enough that a
#: long folder is not all queued (and its results held) at once.
_WINDOW_PER_JOB = 4


class WorkerDied(Exception):
    """The worker process running an item exited without an answer (killed, crashed)."""


def default_jobs() -> int:
    """One worker per core this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool, so the
    # workers must not each print a KeyboardInterrupt traceback of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool(jobs: int, task: Callable[..., object]) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(jobs, mp_context=_context(task), initializer=_ignore_interrupts)


def _context(task: Callable[..., object]) -> multiprocessing.context.BaseContext:
    """fork while this process runs no other thread, else forkserver (spawn without it).

    A forked worker starts at once with numpy, Pillow and imghash already imported, and
    does not run the caller's ``__main__`` again (a single-threaded script calling
    ``find_duplicates`` needs no ``if __name__ == "__main__"`` guard; one that runs
    threads does, as with any fork server or spawn pool). Forking a process that runs threads
    (a server, some test runners) may deadlock, and Python 3.12+ warns of it: then
    workers come from a fork server instead, which imports ``task``'s module (numpy,
    Pillow, imghash) once, before its first worker: each worker would otherwise import
    them itself when handed its first task (144 photos, 2 workers, a loaded machine:
    2.6-3.0 s with the preload, 3.0-4.5 s without; 2.4-2.8 s in one process).
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # __main__ is what the fork server loads by default; it starts once per process, so
    # the first pool's list is the one it keeps.
    context.set_forkserver_preload(["__main__", task.__module__])
    return context


def run_ordered(
    task: Callable[[T], R], items: Iterable[T], jobs: int
) -> Generator[R | WorkerDied, None, None]:
    """``task(item)`` for every item, in order; ``WorkerDied`` for an item that killed its worker.

    ``jobs`` 1 runs every task in this process. ``task`` and the items must pickle:
    a function defined at the top level of a module, and plain data.
    """
    queue = list(items)
    if jobs <= 1 or len(queue) < 2:
        yield from map(task, queue)
        return
    yield from _pooled(task, queue, min(jobs, len(queue)))


def _pooled(
    task: Callable[[T], R], queue: list[T], jobs: int
) -> Generator[R | WorkerDied, None, None]:
    upcoming = deque(queue)
    # (item, future) in order; items re-run one at a time after a worker died.
    in_flight: deque[tuple[T, Future[R]]] = deque()
    suspects: deque[T] = deque()
    pool = _pool(jobs, task)
    try:
        while upcoming or in_flight or suspects:
            window = 1 if suspects else jobs * _WINDOW_PER_JOB
            source = suspects if suspects else upcoming
            while source and len(in_flight) < window:
                item = source.popleft()
                in_flight.append((item, pool.submit(task, item)))
            item, future = in_flight.popleft()
            try:
                result = future.result()
            except BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)
                pool = _pool(jobs, task)
                if len(in_flight) == 0 and window == 1:
                    yield WorkerDied(f"the worker process died while running {item!r}")
                    continue
                # Any of the items in flight may be the one: retry each alone.
                retry = [item, *(pending for pending, _ in in_flight)]
                in_flight.clear()
                suspects.extendleft(reversed(retry))
                continue
            yield result
    finally:
        # Reached on completion, on an error in the consumer (a closed pipe) and on
        # Ctrl-C: nothing more is started, and no worker is left behind.
        pool.shutdown(wait=True, cancel_futures=True)
