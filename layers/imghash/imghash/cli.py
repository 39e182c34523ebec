"""The ``imghash`` command: its parser, ``hash`` and ``compare``; ``_cli_index`` adds the index's.

This module owns the parser and ``main``; the output, the progress bar and the sources
every command shares live in ``_cli_io``, and ``_cli_index`` only registers ``index``,
``search`` and ``dupes`` on the parser it is given.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from ._algorithms import ALGORITHMS, resolve_algorithms
from ._cli_index import add_index_commands
from ._cli_io import (
    EXIT_CLOSED_PIPE,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Console,
    expand_sources,
    hash_one,
    hash_sources,
    jobs_of,
    options_of,
)
from ._compare import MIN_QUALITY, compare
from ._dihedral import DIHEDRAL, check_dihedral
from ._errors import ImghashError
from ._profiles import PROFILES
from ._settings import Settings

__all__ = ["main"]

Handler = Callable[[argparse.Namespace, Settings], int]

_EXIT_HASH = (
    "exit status: 0 when every source was hashed, 1 when any failed (the others are still "
    "hashed and the failures reported), 2 for a usage error, 141 when the reader of the "
    "output went away (| head)."
)
_EXIT_COMPARE = (
    "exit status, as cmp and diff: 0 when the images are likely the same, 1 when they are "
    "not, 2 for an error (an unreadable image, a usage error)."
)


def _cmd_hash(args: argparse.Namespace, settings: Settings) -> int:
    sources = expand_sources(args.sources)
    failed = 0
    with (
        Console(args, len(sources)) as console,
        contextlib.closing(
            hash_sources(sources, options_of(args, settings), jobs_of(args))
        ) as outcomes,
    ):
        for source, outcome in zip(sources, outcomes, strict=True):
            if isinstance(outcome, ImghashError):
                failed += 1
                console.report(source, outcome.to_dict())
            elif args.json:
                console.emit({"source": source, **outcome.hex(), **outcome.signals()})
            else:
                line = "  ".join(f"{name}={value}" for name, value in outcome.hex().items())
                flat = "  (low information)" if outcome.low_information else ""
                noisy = "".join(
                    f"  ({count} unstable {name} bits)"
                    for name, count in outcome.unstable_bits.items()
                    if count
                )
                scores = "".join(
                    f"  ({name} quality {score})" for name, score in outcome.quality.items()
                )
                console.line(f"{line}  {source}{flat}{noisy}{scores}")
            console.step()
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    console = Console(args)
    options = options_of(args, settings)
    if args.dihedral:
        check_dihedral([a.name for a in resolve_algorithms(args.algorithm)])
    results = []
    for source, dihedral in ((args.first, args.dihedral), (args.second, False)):
        try:
            results.append(hash_one(source, replace(options, dihedral=dihedral)))
        except ImghashError as err:
            console.report(source, err.to_dict())
            return EXIT_USAGE
    first, second = results
    comparison = compare(first, second, dihedral=args.dihedral)
    verdict = EXIT_OK if comparison.likely_same else EXIT_FAILED
    if args.json:
        console.emit(comparison.to_dict())
        return verdict
    digits = max(len(h.hex()) for h in first.hashes.values()) + 1
    console.line(
        f"{'algorithm':<10} {'image1':<{digits}} {'image2':<{digits}} {'distance':>8} "
        f"{'similarity':>10}"
    )
    for name, c in comparison.algorithms.items():
        console.line(
            f"{name:<10} {first.hashes[name].hex():<{digits}} "
            f"{second.hashes[name].hex():<{digits}} {c.distance:>8} {c.similarity:>10}"
        )
    if comparison.orientation is not None:
        console.line(
            f"orientation: {comparison.orientation} (image2 matched image1 turned so; the "
            f"distances of {', '.join(first.dihedral)} are the turned image's)"
        )
    console.line(
        f"average similarity {comparison.average_similarity}, "
        f"likely same: {'yes' if comparison.likely_same else 'no'} "
        f"(decided by {', '.join(comparison.decided_by) or 'none'})"
    )
    for label, unstable in zip(("image1", "image2"), comparison.unstable_bits, strict=True):
        for name, count in unstable.items():
            if count:
                console.line(f"note: {count} of {label}'s {name} bits are rounding noise")
    for label, scores in zip(("image1", "image2"), comparison.quality, strict=True):
        for name, score in scores.items():
            if score < MIN_QUALITY:
                console.line(
                    f"note: {label}'s {name} quality is {score}, under {MIN_QUALITY}: "
                    f"{name} does not decide"
                )
    for label, flat in zip(("image1", "image2"), comparison.low_information, strict=True):
        if flat:
            console.line(f"note: {label} is nearly flat; its hashes carry little information")
    return verdict


def _algorithms(text: str) -> str:
    """--algorithm, checked by the subcommand's parser so that its usage is the one shown."""
    try:
        resolve_algorithms(text)
    except ImghashError as err:
        raise argparse.ArgumentTypeError(err.message) from None
    return text


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{jobs} must be at least 1")
    return jobs


def _common(p: argparse.ArgumentParser, algorithm: bool = True, jobs: bool = False) -> None:
    """The options shared by the commands that hash."""
    if algorithm:
        p.add_argument(
            "-a",
            "--algorithm",
            default="all",
            type=_algorithms,
            help=f"{', '.join(ALGORITHMS)}, all (default: ahash, dhash, phash) or a comma list",
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
    if jobs:
        p.add_argument(
            "-j",
            "--jobs",
            type=_jobs,
            default=None,
            metavar="N",
            help="worker processes hashing at once (default: one per core; 1: no workers)",
        )


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    parser = argparse.ArgumentParser(
        prog="imghash", description="Perceptual image hashes: aHash, dHash, pHash, PDQ."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    hash_cmd = commands.add_parser(
        "hash",
        help="hash images",
        description="Hash images: files, folders (recursively), - for standard input, or "
        "http(s) URLs. Results go to standard output in the order given (a folder's files "
        "sorted); a progress bar is drawn on standard error when it is a terminal.",
        epilog=_EXIT_HASH,
    )
    _common(hash_cmd, jobs=True)
    hash_cmd.add_argument("sources", nargs="+", metavar="SOURCE")

    compare_cmd = commands.add_parser(
        "compare",
        help="compare two images",
        description="Compare two images: each algorithm's distance and similarity, and "
        "whether they are likely the same picture.",
        epilog=_EXIT_COMPARE,
    )
    _common(compare_cmd)
    compare_cmd.add_argument(
        "--dihedral",
        action="store_true",
        help="match B against A turned or flipped each of the eight ways "
        f"({', '.join(DIHEDRAL)}); only phash and pdq decide then",
    )
    compare_cmd.add_argument("first", metavar="A")
    compare_cmd.add_argument("second", metavar="B")
    handlers: dict[str, Handler] = {"hash": _cmd_hash, "compare": _cmd_compare}
    handlers.update(add_index_commands(commands, _common))
    return parser, handlers


def _silence_stdout() -> None:
    # What is still buffered for the closed pipe would fail again when Python flushes
    # standard output at exit ("Exception ignored ... BrokenPipeError"): send it nowhere.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a standard output that is no file (a test's capture)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser, handlers = _parser()
    args = parser.parse_args(argv)  # a usage error exits 2 with the command's own usage
    try:
        settings = Settings.from_environ(os.environ)
    except ImghashError as err:
        parser.error(err.message)
    failure = EXIT_USAGE if args.command == "compare" else EXIT_FAILED
    try:
        return handlers[args.command](args, settings)
    except ImghashError as err:
        sys.stderr.write(f"imghash: {err.message} ({err.code})\n")
        return failure
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_CLOSED_PIPE
    except (OSError, sqlite3.Error) as err:
        sys.stderr.write(f"imghash: {err}\n")
        return failure


if __name__ == "__main__":
    sys.exit(main())
