"""``make fuzz``: a coverage-guided atheris (libFuzzer) campaign over the decoders.

    python -m tests.fuzz.campaign [--seconds N] [libFuzzer flags...]

Starts from the seeds of ``seeds.py`` (every corpus format) and feeds each input to
``target.exercise`` (the first byte picks the profile and mode). Only ImghashError may
come out: any other exception, a call over 10 s or memory past 2 GB is a crash, and
libFuzzer writes the input to ``tests/fuzz/crashers/``, which the suite replays
(``test_fuzz.py``). The last lines say how many inputs were tried.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

# Imported under instrumentation, so that libFuzzer sees their branches.
with atheris.instrument_imports():
    import PIL.GifImagePlugin
    import PIL.Image
    import PIL.ImageFile
    import PIL.JpegImagePlugin
    import PIL.PngImagePlugin
    import PIL.TiffImagePlugin
    import PIL.WebPImagePlugin  # noqa: F401

    import imghash._decode
    import imghash._hashing
    import imghash._pixels  # noqa: F401

from tests.fuzz.seeds import seeds
from tests.fuzz.target import exercise

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def one_input(data: bytes) -> None:
    exercise(data[1:], data[0] if data else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=1500)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args, libfuzzer = parser.parse_known_args()
    warnings.simplefilter("ignore")  # as in production: decoder warnings are not errors
    work = Path(tempfile.mkdtemp(prefix="imghash-fuzz-"))
    for n, (name, data) in enumerate(seeds(args.corpus).items()):
        (work / name).write_bytes(bytes([n % 3]) + data)
    crashers = HERE / "crashers"
    crashers.mkdir(exist_ok=True)
    argv = [
        sys.argv[0],
        str(work),
        f"-max_total_time={args.seconds}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        "-max_len=65536",
        f"-artifact_prefix={crashers}/",
        "-print_final_stats=1",
        *libfuzzer,
    ]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
