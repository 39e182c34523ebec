"""``make fuzz``: a coverage-guided atheris (libFuzzer) campaign over the decoders.

    python -m tests.fuzz.campaign [--seconds N] [--segment S]

Starts from the seeds of ``seeds.py`` (every corpus format) and feeds each input to
``target.exercise`` (the first byte picks the profile and mode). Only ImghashError may
come out: any other exception, an input over 10 s or memory past 2 GB is a finding.

The campaign runs as a chain of libFuzzer processes of ``--segment`` seconds sharing
one growing corpus, because a single fuzzing process grows by itself (atheris'
instrumentation) until libFuzzer's RSS limit stops it on an innocent input. So each
finding is replayed alone in a fresh process (``run.py``: 1.5 GB address space, 10 s):
one that reproduces is kept in ``tests/fuzz/crashers/``, which the suite replays; one
that does not is reported as not reproduced and dropped. The last line is a JSON
summary: inputs tried, findings kept (escapes), findings not reproduced.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def worker(corpus_dir: Path, artifacts: Path, seconds: int) -> None:
    """One libFuzzer process (runs in its own interpreter)."""
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

    from tests.fuzz.target import exercise

    def one_input(data: bytes) -> None:
        exercise(data[1:], data[0] if data else 0)

    warnings.simplefilter("ignore")  # as in production: decoder warnings are not errors
    argv = [
        sys.argv[0],
        str(corpus_dir),
        f"-max_total_time={seconds}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        "-max_len=65536",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
    ]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


def _reproduces(path: Path) -> tuple[bool, str]:
    """Replay one finding alone, as the suite does; whether it escapes again, and how."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.run", "--files", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        return True, f"the replay died with code {done.returncode}"
    escapes = json.loads(done.stdout)["escapes"]
    return bool(escapes), json.dumps(escapes)[:500]


def campaign(seconds: int, segment: int, corpus: Path) -> dict[str, object]:
    from tests.fuzz.seeds import seeds

    work = Path(tempfile.mkdtemp(prefix="imghash-fuzz-"))
    corpus_dir, artifacts = work / "corpus", work / "artifacts"
    corpus_dir.mkdir()
    artifacts.mkdir()
    for n, (name, data) in enumerate(seeds(corpus).items()):
        (corpus_dir / name).write_bytes(bytes([n % 3]) + data)
    crashers = HERE / "crashers"
    tried, segments, kept, dropped = 0, 0, [], []
    deadline = time.monotonic() + seconds
    while (left := int(deadline - time.monotonic())) > 5:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.fuzz.campaign",
                "--worker",
                "--corpus-dir",
                str(corpus_dir),
                "--artifacts",
                str(artifacts),
                "--seconds",
                str(min(segment, left)),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        segments += 1
        runs = re.findall(r"stat::number_of_executed_units: (\d+)", done.stderr)
        tried += int(runs[-1]) if runs else 0
        for finding in sorted(artifacts.iterdir()):
            real, how = _reproduces(finding)
            if real:
                shutil.move(finding, crashers / finding.name)
                kept.append({"file": finding.name, "replay": how})
            else:
                finding.unlink()
                dropped.append(finding.name)
        print(
            f"segment {segments}: {tried:,} inputs so far; kept {len(kept)}, "
            f"not reproduced {len(dropped)}",
            file=sys.stderr,
            flush=True,
        )
    shutil.rmtree(work, ignore_errors=True)
    return {
        "seconds": seconds,
        "segments": segments,
        "inputs_tried": tried,
        "escaped": len(kept),
        "kept": kept,
        "not_reproduced": dropped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=1500)
    parser.add_argument("--segment", type=int, default=300)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--corpus-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--artifacts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.corpus_dir, args.artifacts, args.seconds)
        return
    print(json.dumps(campaign(args.seconds, args.segment, args.corpus)), flush=True)


if __name__ == "__main__":
    main()
