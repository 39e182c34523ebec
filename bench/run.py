"""`make bench`: every benchmark of DESIGN §9 in one run, printed as markdown tables.

Speed is reported as ratios measured side by side in this run, on this machine.
"""

from __future__ import annotations

import os
import platform
import sys

import batch
import fast_mode
import folders
import handlers
import imports
import pdq_speed
import pg_search
import robustness
import search
import server
import speed
from common import corpus

import imghash


def main() -> None:
    where = corpus()
    print("# imghash benchmarks\n")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, imghash {imghash.__version__}\n"
    )
    speed.run(where)
    print()
    pdq_speed.run(where)
    print()
    fast_mode.run(where)
    print()
    robustness.run(where)
    print()
    imports.run()
    print()
    handlers.run()
    print()
    batch.run(where)
    print()
    server.run(where)
    print()
    search.run()
    search.cli_throughput(where)
    print()
    folders.run(where)
    print()
    pg_search.run()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
