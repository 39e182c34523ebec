"""The fuzz worker, run in a child process under a memory cap and a per-call time limit.

    python -m tests.fuzz.run --corpus DIR --first N --count M [--variant V]
    python -m tests.fuzz.run --files FILE...     (saved libFuzzer inputs)

The first form hashes mutants ``first .. first + count - 1``: mutant ``i`` is seed
``SEEDS[i % len(SEEDS)]`` mutated with ``mutate(seed, i)``, so any mutant can be made
again from its number. Prints one JSON object: how many inputs were tried, and every
escape (an exception other than ImghashError, a call over the time limit) with the
mutant's number and the exception. Before each call the mutant's number is written to
``--progress``, so that the parent can name an input that hung in C code or crashed.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from tests.fuzz.mutations import mutate
from tests.fuzz.seeds import seeds
from tests.fuzz.target import exercise


class CallTimedOut(BaseException):
    """One call ran past its time limit (a BaseException, so no ``except`` swallows it)."""


def _alarm(signum: int, frame: object) -> None:
    raise CallTimedOut


def _escape(err: BaseException, **where: Any) -> dict[str, Any]:
    frames = traceback.extract_tb(err.__traceback__)[-3:]
    return {
        **where,
        "exception": type(err).__name__,
        "message": str(err)[:300],
        "at": [f"{f.filename}:{f.lineno} {f.name}" for f in frames],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--files", type=Path, nargs="*", default=[])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--memory-mb", type=int, default=1536)
    parser.add_argument("--progress", type=Path)
    args = parser.parse_args()
    cap = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    signal.signal(signal.SIGALRM, _alarm)
    # As in production: the decoders' warnings are shown (once), not raised.
    warnings.simplefilter("ignore")
    if args.files:  # libFuzzer's inputs: the first byte picks the variant, as in campaign.py
        raw = [(str(path), path.read_bytes()) for path in args.files]
        inputs = [(label, data[1:], data[0] if data else 0) for label, data in raw]
    else:
        pool = list(seeds(args.corpus).items())
        inputs = []
        for i in range(args.first, args.first + args.count):
            name, seed = pool[i % len(pool)]
            inputs.append((f"{name}#{i}", mutate(seed, i), i))
    escapes = []
    started = time.monotonic()
    for label, data, number in inputs:
        if args.progress:
            args.progress.write_text(label)
        signal.setitimer(signal.ITIMER_REAL, args.time_limit)
        try:
            exercise(data, number)
        except CallTimedOut as err:
            escapes.append(_escape(err, input=label, number=number))
        except Exception as err:
            escapes.append(_escape(err, input=label, number=number))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    report = {"tried": len(inputs), "escapes": escapes, "seconds": time.monotonic() - started}
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
