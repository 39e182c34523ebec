"""The ``imghash`` command: ``hash``, ``compare``, and the index's ``index``, ``search``, ``dupes``.

Exit status: 0 when every source was handled, 1 when any failed (the others
are still handled), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from ._algorithms import resolve_algorithms
from ._cli_index import add_index_commands
from ._compare import compare
from ._errors import ImghashError, InvalidRequest
from ._hashing import HashResult, hash_image
from ._profiles import PROFILES, resolve_profile
from ._settings import Settings

__all__ = ["Progress", "emit", "expand", "hash_one", "main", "report"]

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


class Progress:
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


def expand(sources: Sequence[str]) -> Iterator[str]:
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


def hash_one(
    source: str, args: argparse.Namespace, settings: Settings, algorithms: str | None = None
) -> HashResult:
    """Hash one command-line source: a file, ``-`` (standard input) or an http(s) URL."""
    options: dict[str, Any] = {
        "algorithms": algorithms or getattr(args, "algorithm", "all"),
        "profile": args.profile,
        "fast": args.fast,
        "settings": settings,
    }
    if source == STDIN:
        return hash_image(sys.stdin.buffer.read(settings.max_bytes + 1), **options)
    if _is_url(source):
        try:
            from ._fetch import Fetcher
        except ImportError:
            raise InvalidRequest(
                "URL sources need the web extra: pip install 'imghash-service[web]'"
            ) from None
        return hash_image(Fetcher(settings).fetch(source), **options)
    return hash_image(source, **options)


def emit(obj: dict[str, Any]) -> None:
    """One JSON object on its own line of standard output."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def report(source: str, error: dict[str, Any], args: argparse.Namespace) -> None:
    """A failed source: a JSON line with --json, else a line on standard error."""
    if args.json:
        emit({"source": source, "error": error})
    else:
        sys.stderr.write(f"imghash: {source}: {error['message']} ({error['code']})\n")


def _cmd_hash(args: argparse.Namespace, settings: Settings) -> int:
    sources = list(expand(args.sources))
    progress = Progress(sys.stderr, len(sources))
    failed = 0
    for source in sources:
        try:
            result = hash_one(source, args, settings)
        except ImghashError as err:
            failed += 1
            report(source, err.to_dict(), args)
        else:
            if args.json:
                emit({"source": source, **result.hex(), **result.signals()})
            else:
                line = "  ".join(f"{name}={value}" for name, value in result.hex().items())
                flat = "  (low information)" if result.low_information else ""
                noisy = "".join(
                    f"  ({count} unstable {name} bits)"
                    for name, count in result.unstable_bits.items()
                    if count
                )
                sys.stdout.write(f"{line}  {source}{flat}{noisy}\n")
        sys.stdout.flush()
        progress.step()
    return 1 if failed else 0


def _cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    results = []
    for source in (args.first, args.second):
        try:
            results.append(hash_one(source, args, settings))
        except ImghashError as err:
            report(source, err.to_dict(), args)
            return 1
    first, second = results
    comparison = compare(first, second)
    if args.json:
        emit(comparison.to_dict())
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
        f"likely same: {'yes' if comparison.likely_same else 'no'} "
        f"(decided by {', '.join(comparison.decided_by) or 'none'})\n"
    )
    for label, unstable in zip(("image1", "image2"), comparison.unstable_bits, strict=True):
        for name, count in unstable.items():
            if count:
                out.write(f"note: {count} of {label}'s {name} bits are rounding noise\n")
    for label, flat in zip(("image1", "image2"), comparison.low_information, strict=True):
        if flat:
            out.write(f"note: {label} is nearly flat; its hashes carry little information\n")
    return 0


Handler = Callable[[argparse.Namespace, Settings], int]


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    parser = argparse.ArgumentParser(
        prog="imghash", description="Perceptual image hashes: aHash, dHash, pHash."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, algorithm: bool = True) -> None:
        if algorithm:
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
    handlers: dict[str, Handler] = {"hash": _cmd_hash, "compare": _cmd_compare}
    handlers.update(add_index_commands(commands, common))
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser, handlers = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_environ(os.environ)
        resolve_algorithms(getattr(args, "algorithm", "all"))
        resolve_profile(args.profile)
    except ImghashError as err:
        parser.error(err.message)  # exits with status 2
    distance = getattr(args, "max_distance", None)
    if distance is not None and not 0 <= distance <= 16:
        parser.error(f"--max-distance {distance} is outside 0..16")
    try:
        return handlers[args.command](args, settings)
    except ImghashError as err:
        sys.stderr.write(f"imghash: {err.message} ({err.code})\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 1
    except (OSError, sqlite3.Error) as err:
        sys.stderr.write(f"imghash: {err}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
