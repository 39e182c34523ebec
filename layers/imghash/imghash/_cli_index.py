"""The index commands of ``imghash``: ``index``, ``search``, ``dupes``, ``rebuild`` (DESIGN §8).

Only registers them on the parser ``cli`` builds; what commands share is in ``_cli_io``.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ._algorithms import ALGORITHMS
from ._cli_io import (
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
from ._dihedral import DIHEDRAL, dihedral_algorithms
from ._errors import ImghashError, IndexCorrupt
from ._folders import STDIN
from ._query import (
    SearchQuery,
    check_dihedral_search,
    hash_query,
    image_query,
    radius_limit,
    search_algorithm,
    search_radius,
)
from ._settings import Settings

__all__ = ["add_index_commands"]

#: Records written in one transaction, at most (and at least once a second).
_BATCH = 100
#: A hex hash of any algorithm's width (the query's own is checked against its algorithm).
_HEX = re.compile(
    "^(0x)?(?:"
    + "|".join(sorted({f"[0-9a-fA-F]{{{a.bits // 4}}}" for a in ALGORITHMS.values()}))
    + ")$"
)
_MAX_DISTANCE = 16

_EXIT_INDEX = (
    "exit status: 0 when every file was indexed or recorded (a file that is not an image "
    "is recorded as such: not a failure), 1 when a file could not be read or the index is "
    "damaged (index_corrupt: delete it and index again), 2 for a usage error."
)
_EXIT_SEARCH = (
    "exit status: 0 when the search ran (with or without matches), 1 for an error (no "
    "index yet: index_not_found; a damaged one: index_corrupt), 2 for a usage error."
)
_EXIT_DUPES = (
    "exit status: 0 when every image was hashed, 1 when any failed (the others are still "
    "grouped), 2 for a usage error."
)


def _location(args: argparse.Namespace, settings: Settings) -> str:
    """--db, else $IMGHASH_DATABASE_URL, else $IMGHASH_DB, else the default file."""
    return str(args.db or settings.index_location)


def _shown(location: str) -> str:
    """A location for messages: a database URL without its password."""
    from .index._postgres import masked

    return masked(location)


def _close(store: Any) -> None:
    """Release what a store holds open (a PostgreSQL pool); files hold nothing."""
    close = getattr(store, "close", None)
    if close is not None:
        close()


def _cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .index import open_store

    location = _location(args, settings)
    store = open_store(location, settings)
    try:
        status = _index(args, settings, store, location)
    except (sqlite3.Error, IndexCorrupt):
        # On any failure of the file itself, say whether it is damaged, and how to mend it.
        _check(store)
        raise
    finally:
        _close(store)
    _check(store)
    return status


def _check(store: Any) -> None:
    """SQLite's ``quick_check`` after a run (stores that have no such check pass)."""
    check = getattr(store, "check", None)
    if check is not None:
        check()


def _index(args: argparse.Namespace, settings: Settings, store: Any, location: str) -> int:
    from ._parallel import WorkerDied, run_ordered
    from .index import IndexRecord, hash_file, plan_file, prune, put_all

    sources = expand_sources(args.sources)
    counts = {"hashed": 0, "unchanged": 0, "not images": 0, "failed": 0, "removed": 0}
    with Console(args, len(sources)) as console:
        plans: list[Any] = []
        for source in sources:
            try:
                plans.append(plan_file(Path(source), store, profile=args.profile, fast=args.fast))
            except FileNotFoundError as err:
                plans.append(err)
        work = [(plan, settings) for plan in plans if not isinstance(plan, IndexRecord | OSError)]
        pending: list[IndexRecord] = []
        flushed = time.monotonic()
        with contextlib.closing(run_ordered(hash_file, work, jobs_of(args))) as hashed:
            for source, plan in zip(sources, plans, strict=True):
                if isinstance(plan, OSError):
                    counts["failed"] += 1
                    console.note(f"{source}: {plan}")
                elif isinstance(plan, IndexRecord):
                    _indexed(console, source, plan, False, counts)
                else:
                    record = next(hashed)
                    if isinstance(record, WorkerDied):
                        counts["failed"] += 1
                        console.report(source, ImghashError(str(record)).to_dict())
                    else:
                        pending.append(record)
                        _indexed(console, source, record, True, counts)
                # Written in batches: a commit per file would wait on the disk for each.
                if pending and (len(pending) >= _BATCH or time.monotonic() - flushed > 1):
                    put_all(store, pending)
                    pending, flushed = [], time.monotonic()
                console.step()
        put_all(store, pending)
        for folder in args.sources:
            if folder != STDIN and Path(folder).is_dir():
                for key in prune(Path(folder), store):
                    counts["removed"] += 1
                    if args.json:
                        console.emit({"source": key, "removed": True})
    summary = ", ".join(f"{count} {label}" for label, count in counts.items())
    console.note(f"{summary}; index {_shown(location)}")
    return EXIT_FAILED if counts["failed"] else EXIT_OK


def _indexed(
    console: Console, source: str, record: Any, hashed: bool, counts: dict[str, int]
) -> None:
    if record.error is not None:
        counts["not images"] += 1
        console.report(source, {"code": record.error, "message": record.error_message or ""})
        return
    counts["hashed" if hashed else "unchanged"] += 1
    if console.json:
        hashes = {n: h.hex() for n, h in record.hashes.items()}
        fast = {"fast": True} if record.fast else {}
        console.emit({"source": source, "indexed": hashed, **hashes, **fast})


def _by_hash(source: str) -> bool:
    """Whether SOURCE is a hex hash (a file of that name is the file)."""
    return bool(_HEX.match(source)) and not Path(source).exists()


def _query(source: str, args: argparse.Namespace, settings: Settings) -> SearchQuery:
    """The query: a hex hash, or an image's hash (its eight turns with --dihedral)."""
    algorithm = search_algorithm(args.algorithm)
    if _by_hash(source):
        return SearchQuery(hash_query(source, algorithm))
    options = replace(options_of(args, settings, algorithms=algorithm.name), dihedral=args.dihedral)
    return image_query(hash_one(source, options), algorithm, dihedral=args.dihedral)


def _cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from .index import SearchService, mark_missing, open_store

    console = Console(args)
    algorithm = search_algorithm(args.algorithm)
    try:  # usage errors, found before any work
        k = search_radius(algorithm, args.max_distance)
        if args.dihedral:
            check_dihedral_search(algorithm, by_hash=_by_hash(args.source))
        if _by_hash(args.source):  # of the algorithm's width
            hash_query(args.source, algorithm)
    except ImghashError as err:
        console.note(f"{err.message} ({err.code})")
        return EXIT_USAGE
    try:
        query = _query(args.source, args, settings)
    except ImghashError as err:
        console.report(args.source, err.to_dict())
        return EXIT_FAILED
    store = open_store(_location(args, settings), settings, read_only=True)
    try:
        matches, total = SearchService(store).search(
            query.hashes,
            algorithm=algorithm.name,
            max_distance=k,
            limit=args.limit,
            profile=args.profile,
        )
    finally:
        _close(store)
    missing = mark_missing(matches)
    said = query.echo()
    if args.json:
        echo = {"source": args.source, "algorithm": algorithm.name, "hash": said.pop("hash")}
        console.emit(
            {"query": {**echo, "max_distance": k, **said}, "matches": matches, "indexed": total}
        )
    else:
        _notes(console, algorithm.name, said)
    for match in matches if not args.json else []:
        where = (
            match["key"] if match["bucket"] == "file" else f"s3://{match['bucket']}/{match['key']}"
        )
        turned = f"  ({match['orientation']})" if query.dihedral else ""
        gone = "  (missing: the file is gone)" if match.get("missing") else ""
        fast = "  (fast mode)" if match.get("fast") else ""
        console.line(f"{match['distance']:>2}  {where}{turned}{fast}{gone}")
    turns = ", every orientation" if query.dihedral else ""
    console.note(
        f"{len(matches)} within {k} bits ({algorithm.name}{turns}) among {total} indexed images"
    )
    if missing:
        console.note(
            f"{missing} of them no longer exist; `imghash index FOLDER` on their folder "
            "forgets them"
        )
    return EXIT_OK


def _notes(console: Console, algorithm: str, said: dict[str, Any]) -> None:
    """What the query's echo warns of, as notes on standard error."""
    if said.get("unstable_bits"):
        console.note(
            f"note: {said['unstable_bits']} of the query's {algorithm} bits are rounding "
            "noise (a pattern's exactly-zero frequencies): its matches are unreliable"
        )
    if said.get("low_information"):
        console.note(
            f"note: the query's {algorithm} quality is {said['quality']}, under 50: a hash "
            "of little information (Meta advises discarding it); its matches are unreliable"
        )


def _cmd_dupes(args: argparse.Namespace, settings: Settings) -> int:
    from ._duplicates import group_duplicates

    sources = expand_sources(args.sources)
    hashed = []
    failed = 0
    options = options_of(args, settings, algorithms="all")
    with (
        Console(args, len(sources)) as console,
        contextlib.closing(hash_sources(sources, options, jobs_of(args))) as outcomes,
    ):
        for source, outcome in zip(sources, outcomes, strict=True):
            if isinstance(outcome, ImghashError):
                failed += 1
                console.report(source, outcome.to_dict())
            else:
                hashed.append((source, outcome))
            console.step()
    groups = group_duplicates(hashed, algorithm=args.algorithm, max_distance=args.max_distance)
    for group in groups:
        if args.json:
            console.emit(group.to_dict())
        else:
            console.line("\n".join(group.paths) + "\n")
    console.note(f"{len(groups)} groups of near-duplicates among {len(hashed)} images")
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from .index import PostgresStore, open_store

    location = _location(args, settings)
    store = open_store(location, settings)
    try:
        if not isinstance(store, PostgresStore):
            Console(args).note(
                f"{_shown(location)} is not a PostgreSQL index: only those are cut into "
                "substrings (give --db postgresql://...)"
            )
            return EXIT_USAGE
        layout = store.rebuild(args.substrings)
    finally:
        _close(store)
    widths = "/".join(str(w) for w in layout.widths)
    Console(args).note(f"index {_shown(location)}: {layout.substrings} substrings of {widths} bits")
    return EXIT_OK


def _max_distance(text: str, high: int) -> int:
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= k <= high:
        raise argparse.ArgumentTypeError(f"{k} is outside 0..{high}")
    return k


def _substrings(text: str) -> int:
    from ._settings import SUBSTRINGS

    try:
        m = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if m not in SUBSTRINGS:
        raise argparse.ArgumentTypeError(
            f"{m} is outside {SUBSTRINGS.start}..{SUBSTRINGS.stop - 1}"
        )
    return m


def _limit(text: str) -> int:
    try:
        limit = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if limit < 1:
        raise argparse.ArgumentTypeError(f"{limit} must be at least 1")
    return limit


def add_index_commands(
    commands: Any, common: Callable[..., None]
) -> dict[str, Callable[[argparse.Namespace, Settings], int]]:
    """Add ``index``, ``search``, ``dupes`` and ``rebuild`` to the parser; return their
    handlers.

    ``common(parser, algorithm=..., jobs=...)`` adds the options of every hashing command.
    """

    def db(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db",
            metavar="PATH",
            help="the index: a SQLite file or a postgresql:// URL (default "
            "$IMGHASH_DATABASE_URL, else $IMGHASH_DB, else index.db in the user's data "
            "directory: ~/.local/share/imghash on Linux)",
        )

    def search_options(
        p: argparse.ArgumentParser,
        names: list[str] = ["ahash", "dhash", "phash"],  # noqa: B006 (read only)
        widest: Callable[[str], int] = lambda text: _max_distance(text, _MAX_DISTANCE),
        ranges: str = f"0..{_MAX_DISTANCE}",
    ) -> None:
        p.add_argument(
            "-a",
            "--algorithm",
            default="phash",
            choices=names,
            help="the hash compared (default phash)",
        )
        p.add_argument(
            "-k",
            "--max-distance",
            type=widest,
            default=None,
            metavar="K",
            help=f"largest Hamming distance, {ranges} (default: the likely-same limit)",
        )

    index_cmd = commands.add_parser(
        "index",
        help="add images to the local index",
        description="Hash images (files, folders) into the index. A file whose size and "
        "modification time are unchanged is not read again; the records of files under a "
        "folder that are gone from it are removed. With --fast, JPEGs are hashed in fast "
        "mode and their records say so (search marks them); indexing again without it "
        "hashes them exactly.",
        epilog=_EXIT_INDEX,
    )
    common(index_cmd, algorithm=False, jobs=True)
    db(index_cmd)
    index_cmd.add_argument("sources", nargs="+", metavar="SOURCE")

    search_cmd = commands.add_parser(
        "search",
        help="find indexed images near an image or a hash",
        description="Find indexed images near SOURCE: a file, a URL, - or a hex hash of the "
        "algorithm's width (16 digits; 64 for pdq). The index is opened read-only; a match "
        "whose file is gone is marked missing.",
        epilog=_EXIT_SEARCH,
    )
    common(search_cmd, algorithm=False)
    db(search_cmd)
    search_options(
        search_cmd,
        list(ALGORITHMS),
        lambda text: _max_distance(text, max(radius_limit(a) for a in ALGORITHMS.values())),
        ", ".join(f"0..{radius_limit(a)} for {a.name}" for a in ALGORITHMS.values()),
    )
    search_cmd.add_argument(
        "--dihedral",
        action="store_true",
        help="match the indexed images against SOURCE (an image) turned or flipped each of "
        f"the eight ways ({', '.join(DIHEDRAL)}); each match names its orientation; "
        f"{' or '.join(dihedral_algorithms())} only",
    )
    search_cmd.add_argument(
        "--limit", type=_limit, default=None, metavar="N", help="at most this many matches"
    )
    search_cmd.add_argument("source", metavar="SOURCE")

    dupes_cmd = commands.add_parser(
        "dupes",
        help="group near-duplicate images",
        description="Group the near-duplicates among images (files, folders). By default two "
        "images belong together when they are likely the same (every algorithm within its "
        "limit); --max-distance K groups by one algorithm's distance instead.",
        epilog=_EXIT_DUPES,
    )
    common(dupes_cmd, algorithm=False, jobs=True)
    search_options(dupes_cmd)
    dupes_cmd.add_argument("sources", nargs="+", metavar="SOURCE")

    rebuild_cmd = commands.add_parser(
        "rebuild",
        help="re-cut a PostgreSQL index's hashes into M substrings",
        description="Change how many substrings a PostgreSQL index cuts each hash into for "
        "multi-index search (4 of 16 bits; 3 of 21/22 bits pays off past a few 10^7 "
        "hashes). Searches and writes wait while the table is rewritten.",
        epilog="exit status: 0 when rebuilt, 1 for an error, 2 for a usage error (not a "
        "PostgreSQL index).",
    )
    db(rebuild_cmd)
    rebuild_cmd.add_argument(
        "--substrings", type=_substrings, required=True, metavar="M", help="substrings a hash, 3..8"
    )
    return {
        "index": _cmd_index,
        "search": _cmd_search,
        "dupes": _cmd_dupes,
        "rebuild": _cmd_rebuild,
    }
