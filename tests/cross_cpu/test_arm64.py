"""The same hashes on arm64 (Lambda) as on x86_64: the corpus and generated patterns under qemu.

Issue 9 item 6: ``jimp`` gives every bit the same on both CPUs; ``imagehash``, whose
DCT is an FFT that aarch64 builds compute with fused multiply-add (as the imagehash
library's own scipy does), gives every bit the same that is not unstable (rounding
noise decided it: ``HashResult.unstable``) on either side.

The aarch64 side is a real CPython 3.13 from Debian's arm64 packages with the aarch64
wheels of the installed numpy, Pillow and pillow-heif, run by ``qemu-aarch64-static``
(``tests/cross_cpu/userland.py``, cached under ``~/.cache/imghash``). Emulation is slow:
``make test`` runs a sample (``formats/`` and three photos, JPEGs in both modes, and
every fifteenth pattern); ``make test-full`` runs every corpus image and every pattern.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import imghash
from tests.cross_cpu import userland
from tests.helpers import encode, need
from tests.patterns import patterns

FULL = os.environ.get("IMGHASH_FULL") == "1"
WORKER = Path(__file__).with_name("worker.py")
PACKAGE = Path(imghash.__file__).resolve().parent.parent
SKIP_FOLDERS = {"bad", "reference"}

Answers = dict[tuple[str, str, str], dict[str, Any]]


#: The sample ``make test`` runs: every format and pixel mode, EXIF orientation, the seed's
#: photo, imagehash's test vectors, the resizer's odd sizes (``formats/``), plus these.
SAMPLE = ("photos/DSCN0010.jpg", "orientation/portrait_6.jpg", "photos/small_Canon_40D.jpg")


def inputs(corpus: Path, folder: Path) -> list[str]:
    """``path<TAB>modes`` lines: corpus files and generated patterns written as PNG here."""
    lines = []
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.parent.name in SKIP_FOLDERS or path.suffix == ".md":
            continue
        name = str(path.relative_to(corpus))
        if not FULL and not (name.startswith("formats/") or name in SAMPLE):
            continue
        jpeg = path.suffix.lower() in (".jpg", ".jpeg")
        lines.append(f"{path}\t{'exact,fast' if jpeg else 'exact'}")
    for name, image in patterns(every=1 if FULL else 15):
        # Made here, on x86_64, once: both CPUs read the same pixels.
        target = folder / f"{name}.png"
        target.write_bytes(encode(image))
        lines.append(f"{target}\texact")
    return lines


def parse(output: str) -> tuple[Answers, dict[str, str]]:
    answers: Answers = {}
    about: dict[str, str] = {}
    for line in output.splitlines():
        item = json.loads(line)
        if "machine" in item:
            about = item
        else:
            answers[item["path"], item["profile"], item["mode"]] = item
    return answers, about


def stable_difference(x86: dict[str, Any], arm: dict[str, Any]) -> dict[str, int]:
    """Per algorithm, the bits that differ and neither side calls unstable."""
    out = {}
    for name, value in x86["hashes"].items():
        noise = int(x86["unstable"].get(name, "0"), 16) | int(arm["unstable"].get(name, "0"), 16)
        differing = (int(value, 16) ^ int(arm["hashes"][name], 16)) & ~noise
        if differing:
            out[name] = differing.bit_count()
    return out


@pytest.mark.slow
def test_arm64_gives_the_same_bits(corpus: Path, tmp_path: Path) -> None:
    need(
        userland.QEMU is not None,
        "qemu-aarch64-static is missing (Debian package qemu-user-static; .ci/run installs it)",
    )
    try:
        root = userland.ensure_userland()
    except (RuntimeError, OSError) as err:
        need(False, f"could not build the aarch64 userland (Debian trixie, PyPI): {err}")
    listing = tmp_path / "inputs.txt"
    lines = inputs(corpus, tmp_path)
    listing.write_text("\n".join(lines) + "\n")

    here = subprocess.run(
        [sys.executable, str(WORKER), str(listing)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    emulated = userland.run_python(root, [str(WORKER), str(listing)], [PACKAGE], timeout=3600)
    assert emulated.returncode == 0, emulated.stderr[-3000:]
    x86, x86_about = parse(here.stdout)
    arm, arm_about = parse(emulated.stdout)
    assert x86_about["machine"] == "x86_64"
    assert arm_about["machine"] == "aarch64"
    assert arm.keys() == x86.keys()
    assert len(x86) >= 2 * len(lines)

    jimp_differs = {
        key: (x86[key].get("hashes"), arm[key].get("hashes"))
        for key in x86
        if key[1] == "jimp" and (x86[key] != arm[key])
    }
    assert not jimp_differs  # hashes, unstable masks, flatness, signals and errors alike
    imagehash_differs = {}
    noisy = 0
    for key in x86:
        if key[1] != "imagehash":
            continue
        assert x86[key].get("error") == arm[key].get("error"), key
        assert x86[key].get("flat") == arm[key].get("flat"), key
        assert x86[key].get("quality") == arm[key].get("quality"), key  # PDQ's
        if "hashes" in x86[key]:
            difference = stable_difference(x86[key], arm[key])
            if difference:
                imagehash_differs[key] = difference
            noisy += x86[key]["hashes"] != arm[key]["hashes"]
    assert not imagehash_differs
    print(f"{len(x86)} hashes compared; imagehash differs in unstable bits only on {noisy}")
