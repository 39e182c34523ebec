"""Hash files in both profiles and print one JSON line each: run on x86_64 and under qemu.

Usage: ``python worker.py LIST`` where LIST holds one ``path<TAB>modes`` per line
(modes: ``exact``, or ``exact,fast``). Imports only imghash and what it needs, so that
the same file runs on the aarch64 userland (tests/cross_cpu/userland.py).
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import imghash

#: Every algorithm of the registry (the seed's three and PDQ), whatever ``all`` means.
ALGORITHMS = list(imghash.ALGORITHMS)


def main(listing: str) -> None:
    for line in Path(listing).read_text(encoding="utf-8").splitlines():
        path, modes = line.split("\t")
        for profile in ("jimp", "imagehash"):
            for mode in modes.split(","):
                key = {"path": path, "profile": profile, "mode": mode}
                try:
                    result = imghash.hash_image(
                        path, algorithms=ALGORITHMS, profile=profile, fast=mode == "fast"
                    )
                except imghash.ImghashError as err:
                    print(json.dumps({**key, "error": err.code}))
                    continue
                unstable = {name: mask.hex() for name, mask in result.unstable.items()}
                said = {"hashes": result.hex(), "unstable": unstable, "flat": result.flat}
                print(json.dumps({**key, **said, **result.signals()}))
    print(json.dumps({"machine": platform.machine(), "python": platform.python_version()}))


if __name__ == "__main__":
    main(sys.argv[1])
