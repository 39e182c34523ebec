"""The ``imghash`` command: ``imghash hash`` and ``imghash compare`` (DESIGN §7).

Exit status: 0 when every source was handled, 1 when any failed (the others
are still handled), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from ._algorithms import resolve_algorithms
from ._compare import compare
from ._errors import ImghashError, InvalidRequest
from ._hashing import HashResult, hash_image
from ._profiles import PROFILES, resolve_profile
from ._settings import Settings

__all__ = ["main"]

#: File endings picked up when a folder is walked; named files are always tried.
IMAGE_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".jpe",
        ".gif",
        ".bmp",
        ".dib",
        ".tif",
        ".tiff",
        ".webp",
        ".heic",
        ".heif",
    }
)
STDIN = "-"


class _Progress:
    """A one-line progress counter on a terminal's stderr; silent elsewhere."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.enabled = total > 1 and stream.isatty()

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
            )
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def _expand(sources: Sequence[str]) -> Iterator[str]:
    """Each source, with folders replaced by the image files below them, sorted."""
    for source in sources:
        if source != STDIN and Path(source).is_dir():
            found = sorted(
                str(p)
                for p in Path(source).rglob("*")
                if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            )
            yield from found
        else:
            yield source


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _hash_one(source: str, args: argparse.Namespace, settings: Settings) -> HashResult:
    if source == STDIN:
        data = sys.stdin.buffer.read(settings.max_bytes + 1)
        return hash_image(
            data, algorithms=args.algorithm, profile=args.profile, fast=args.fast, settings=settings
        )
    if _is_url(source):
        try:
            from ._fetch import Fetcher
        except ImportError:
            raise InvalidRequest(
                "URL sources need the web extra: pip install 'imghash[web]'"
            ) from None
        data = Fetcher(settings).fetch(source)
        return hash_image(
            data, algorithms=args.algorithm, profile=args.profile, fast=args.fast, settings=settings
        )
    return hash_image(
        source, algorithms=args.algorithm, profile=args.profile, fast=args.fast, settings=settings
    )


def _print(obj: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _cmd_hash(args: argparse.Namespace, settings: Settings) -> int:
    sources = list(_expand(args.sources))
    progress = _Progress(sys.stderr, len(sources))
    failed = 0
    for source in sources:
        try:
            result = _hash_one(source, args, settings)
        except ImghashError as err:
            failed += 1
            if args.json:
                _print({"source": source, "error": err.to_dict()}, sys.stdout)
            else:
                sys.stderr.write(f"imghash: {source}: {err.message} ({err.code})\n")
        else:
            if args.json:
                _print({"source": source, **result.hex()}, sys.stdout)
            else:
                line = "  ".join(f"{name}={value}" for name, value in result.hex().items())
                flat = "  (low information)" if result.low_information else ""
                sys.stdout.write(f"{line}  {source}{flat}\n")
        sys.stdout.flush()
        progress.step()
    return 1 if failed else 0


def _cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    results = []
    for source in (args.first, args.second):
        try:
            results.append(_hash_one(source, args, settings))
        except ImghashError as err:
            if args.json:
                _print({"source": source, "error": err.to_dict()}, sys.stdout)
            else:
                sys.stderr.write(f"imghash: {source}: {err.message} ({err.code})\n")
            return 1
    first, second = results
    comparison = compare(first, second)
    if args.json:
        _print(comparison.to_dict(), sys.stdout)
        return 0
    out = sys.stdout
    out.write(
        f"{'algorithm':<10} {'image1':<17} {'image2':<17} {'distance':>8} {'similarity':>10}\n"
    )
    for name, c in comparison.algorithms.items():
        out.write(
            f"{name:<10} {first.hashes[name].hex():<17} {second.hashes[name].hex():<17} "
            f"{c.distance:>8} {c.similarity:>10}\n"
        )
    out.write(
        f"average similarity {comparison.average_similarity}, "
        f"likely same: {'yes' if comparison.likely_same else 'no'}\n"
    )
    for label, flat in zip(("image1", "image2"), comparison.low_information, strict=True):
        if flat:
            out.write(f"note: {label} is nearly flat; its hashes carry little information\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imghash", description="Perceptual image hashes: aHash, dHash, pHash."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-a",
            "--algorithm",
            default="all",
            help="ahash, dhash, phash, all (default) or a comma list",
        )
        p.add_argument(
            "-p",
            "--profile",
            default="jimp",
            choices=sorted(PROFILES),
            help="jimp: the reference service's values (default); "
            "imagehash: the imagehash library's values",
        )
        p.add_argument(
            "--fast",
            action="store_true",
            help="let the JPEG decoder scale down first (a few bits may differ)",
        )
        p.add_argument("--json", action="store_true", help="JSON output, one object per line")

    hash_cmd = commands.add_parser(
        "hash",
        help="hash images",
        description="Hash images: files, folders (recursively), or - for standard input.",
    )
    common(hash_cmd)
    hash_cmd.add_argument("sources", nargs="+", metavar="SOURCE")

    compare_cmd = commands.add_parser(
        "compare", help="compare two images", description="Compare two images."
    )
    common(compare_cmd)
    compare_cmd.add_argument("first", metavar="A")
    compare_cmd.add_argument("second", metavar="B")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_environ(os.environ)
        resolve_algorithms(args.algorithm)
        resolve_profile(args.profile)
    except ImghashError as err:
        parser.error(err.message)  # exits with status 2
    handlers = {"hash": _cmd_hash, "compare": _cmd_compare}
    try:
        return handlers[args.command](args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 1


if __name__ == "__main__":
    sys.exit(main())
