"""One image's work shared among threads: its decode and pixel passes on every free core.

The per-pixel passes (Jimp's grey, PDQ's luminance) go over an image in blocks of rows,
each block's arithmetic independent of the others' and written to its own rows of the
output. numpy releases the GIL inside each operation, so the blocks can be split among
threads: the values are the same whatever the split, as each pixel's arithmetic is. A
JPEG with restart markers is decoded in parts the same way (``_restarts``), libjpeg
releasing the GIL.

How many threads: ``IMGHASH_THREADS`` when set, else one per core this process may run
on, up to :data:`MAX_THREADS`; but one in a worker process of a pool (a folder is already
spread over one process per core) and for an image too small to be worth a thread's start.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = [
    "MAX_REQUESTED_THREADS",
    "MAX_THREADS",
    "MIN_PIXELS_PER_THREAD",
    "for_blocks",
    "image_threads",
    "run_all",
]

P = TypeVar("P")

#: Most threads one image uses by default: the passes are memory-bound past a few cores.
MAX_THREADS = 4
#: Most threads ``IMGHASH_THREADS`` may ask for: each has its own scratch buffers (PDQ's
#: are about 7 MB for a 7,000-pixel-wide image) and its own stack.
MAX_REQUESTED_THREADS = 32
#: Pixels each thread must have at least: below this, starting a thread (about 0.1 ms)
#: costs more than the thread saves.
MIN_PIXELS_PER_THREAD = 1 << 20


def image_threads(requested: int) -> int:
    """Threads an image may use: ``requested`` (``Settings.threads``), or 0 for the default."""
    if requested > 0:
        return requested
    import multiprocessing  # here: a Lambda function (IMGHASH_THREADS=1) never needs it

    if multiprocessing.parent_process() is not None:
        return 1  # a pool's worker: its siblings have the other cores
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def for_blocks(
    height: int, rows: int, width: int, threads: int, fill: Callable[[range], None]
) -> None:
    """``fill(tops)`` over the tops of the ``rows``-row blocks of a ``height``-row image.

    With ``threads`` above 1 and pixels enough, the tops are cut into that many runs of
    consecutive blocks, one per thread (this thread takes the first, and any a thread could
    not be started for). ``fill`` must make its own scratch buffers: two runs never share
    one. An exception in any run is raised here, after every run has ended (the first
    other thread's, if this thread's own runs went well): see :func:`run_all`.
    """
    tops = range(0, height, rows)
    runs = min(threads, len(tops), max(1, height * width // MIN_PIXELS_PER_THREAD))
    if runs <= 1:
        fill(tops)
        return
    per_run = -(-len(tops) // runs)
    run_all(fill, [tops[start : start + per_run] for start in range(0, len(tops), per_run)])


def run_all(work: Callable[[P], None], parts: Sequence[P]) -> None:
    """``work(part)`` for every part: the first on this thread, each other on a thread of its own.

    ``work`` must make its own scratch buffers: two parts never share one. A part a thread
    could not be started for runs on this thread. An exception in any part is raised here,
    after every part has ended (the first other thread's, if this thread's own parts went
    well).
    """
    if not parts:
        return
    errors: list[Exception] = []

    def run(part: P) -> None:
        try:
            work(part)
        except Exception as error:  # raised in the caller, once every part has ended
            errors.append(error)

    # Threads for this call alone, joined before it returns, however it returns: no
    # thread outlives it, so a later fork (a folder's worker pool) still sees a
    # single-threaded process, and no thread writes into the caller's arrays after it.
    started: list[threading.Thread] = []
    inline = [parts[0]]
    try:
        for part in parts[1:]:
            thread = threading.Thread(target=run, args=(part,), name="imghash-part", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # no thread to be had (a thread or memory limit): run it here
                inline.append(part)
            else:
                started.append(thread)
        for part in inline:
            work(part)  # this thread's own: an error here (or Ctrl-C) is raised as it is
    finally:
        for thread in started:
            thread.join()
    if errors:
        raise errors[0]
