"""The index commands of ``imghash``: ``index``, ``search`` and ``dupes`` (DESIGN §8)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from ._compare import LIKELY_SAME_MAX_DISTANCE, compare
from ._errors import ImghashError
from ._hashing import HashResult
from ._hashvalue import Hash
from ._settings import Settings

__all__ = ["add_index_commands"]

_HEX = re.compile(r"^(0x)?[0-9a-fA-F]{16}$")


def _store(args: argparse.Namespace, settings: Settings) -> Any:
    from .index import SQLiteStore

    return SQLiteStore(args.db or settings.db_path)


def _cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from . import cli as tools
    from .index import index_file

    store = _store(args, settings)
    sources = list(tools.expand(args.sources))
    progress = tools.Progress(sys.stderr, len(sources))
    counts = {"hashed": 0, "unchanged": 0, "not images": 0, "failed": 0}
    for source in sources:
        try:
            record, hashed = index_file(
                Path(source), store, profile=args.profile, settings=settings
            )
        except (FileNotFoundError, ImghashError) as err:
            counts["failed"] += 1
            sys.stderr.write(f"imghash: {source}: {err}\n")
            progress.step()
            continue
        if record.error is not None:
            counts["not images"] += 1
            tools.report(source, {"code": record.error, "message": record.error_message}, args)
        else:
            counts["hashed" if hashed else "unchanged"] += 1
            if args.json:
                tools.emit(
                    {
                        "source": source,
                        "indexed": hashed,
                        **{n: h.hex() for n, h in record.hashes.items()},
                    }
                )
        progress.step()
    summary = ", ".join(f"{count} {label}" for label, count in counts.items())
    sys.stderr.write(f"imghash: {summary}; index {store.path}\n")
    return 1 if counts["failed"] or counts["not images"] else 0


def _query(source: str, args: argparse.Namespace, settings: Settings) -> tuple[Hash, int]:
    """The query's hash, and how many of its bits are rounding noise (0 for a given hash)."""
    from . import cli

    if _HEX.match(source) and not Path(source).exists():
        return Hash.from_hex(source), 0
    result: HashResult = cli.hash_one(source, args, settings)
    return result.hashes[args.algorithm], result.unstable_bits.get(args.algorithm, 0)


def _cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from . import cli as tools
    from .index import SearchService

    k = _distance(args)
    try:
        query, unstable = _query(args.source, args, settings)
        matches, total = SearchService(_store(args, settings)).search(
            query, algorithm=args.algorithm, max_distance=k, limit=args.limit, profile=args.profile
        )
    except ImghashError as err:
        tools.report(args.source, err.to_dict(), args)
        return 1
    if args.json:
        said: dict[str, Any] = {
            "source": args.source,
            "algorithm": args.algorithm,
            "hash": query.hex(),
            "max_distance": k,
        }
        if unstable:
            said["unstable_bits"] = unstable
        tools.emit({"query": said, "matches": matches, "indexed": total})
        return 0
    if unstable:
        sys.stderr.write(
            f"imghash: note: {unstable} of the query's {args.algorithm} bits are rounding "
            "noise (a pattern's exactly-zero frequencies): its matches are unreliable\n"
        )
    for match in matches:
        where = (
            match["key"] if match["bucket"] == "file" else f"s3://{match['bucket']}/{match['key']}"
        )
        sys.stdout.write(f"{match['distance']:>2}  {where}\n")
    sys.stderr.write(
        f"imghash: {len(matches)} within {k} bits ({args.algorithm}) among {total} indexed images\n"
    )
    return 0


def _cmd_dupes(args: argparse.Namespace, settings: Settings) -> int:
    from . import cli as tools
    from .index import HashIndex

    sources = list(tools.expand(args.sources))
    progress = tools.Progress(sys.stderr, len(sources))
    hashed: list[tuple[str, HashResult]] = []
    failed = 0
    for source in sources:
        try:
            hashed.append((source, tools.hash_one(source, args, settings, algorithms="all")))
        except ImghashError as err:
            failed += 1
            tools.report(source, err.to_dict(), args)
        progress.step()
    k = _distance(args)
    index = HashIndex([r.hashes[args.algorithm].value for _, r in hashed])
    parent = list(range(len(hashed)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (_, result) in enumerate(hashed):
        for j, _distance_found in index.search(result.hashes[args.algorithm].value, k):
            if j <= i:
                continue
            verdict = compare(result, hashed[j][1])  # reads flatness and unstable bits
            if args.max_distance is None:  # the likely-same rule over every algorithm
                if not verdict.likely_same:
                    continue
            elif args.algorithm not in verdict.decided_by:  # noise on one side
                continue
            parent[root(j)] = root(i)
    groups: dict[int, list[str]] = {}
    for i, (source, _) in enumerate(hashed):
        groups.setdefault(root(i), []).append(source)
    found = sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])
    for group in found:
        if args.json:
            tools.emit({"group": group})
        else:
            sys.stdout.write("\n".join(group) + "\n\n")
    sys.stderr.write(
        f"imghash: {len(found)} groups of near-duplicates among {len(hashed)} images\n"
    )
    return 1 if failed else 0


def _distance(args: argparse.Namespace) -> int:
    """--max-distance (checked by the parser), else the algorithm's likely-same limit."""
    k = args.max_distance
    return LIKELY_SAME_MAX_DISTANCE[args.algorithm] if k is None else int(k)


def add_index_commands(commands: Any, common: Any) -> dict[str, Any]:
    """Add ``index``, ``search`` and ``dupes`` to the parser; return their handlers."""

    def db(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db", metavar="PATH", help="the index file (default $IMGHASH_DB, else imghash.db)"
        )

    def search_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-a",
            "--algorithm",
            default="phash",
            choices=["ahash", "dhash", "phash"],
            help="the hash compared (default phash)",
        )
        p.add_argument(
            "-k",
            "--max-distance",
            type=int,
            default=None,
            metavar="K",
            help="largest Hamming distance, 0..16 (default: the likely-same limit)",
        )

    index_cmd = commands.add_parser(
        "index",
        help="add images to the local index",
        description="Hash images (files, folders) into the index.",
    )
    common(index_cmd, algorithm=False)
    db(index_cmd)
    index_cmd.add_argument("sources", nargs="+", metavar="SOURCE")

    search_cmd = commands.add_parser(
        "search",
        help="find indexed images near an image or a hash",
        description="Find indexed images near SOURCE: a file, a URL, - or a 16-digit hex hash.",
    )
    common(search_cmd, algorithm=False)
    db(search_cmd)
    search_options(search_cmd)
    search_cmd.add_argument("--limit", type=int, default=None, help="at most this many matches")
    search_cmd.add_argument("source", metavar="SOURCE")

    dupes_cmd = commands.add_parser(
        "dupes",
        help="group near-duplicate images",
        description="Group the near-duplicates among images (files, folders). By default two "
        "images belong together when they are likely the same (every algorithm within its "
        "limit); --max-distance K groups by one algorithm's distance instead.",
    )
    common(dupes_cmd, algorithm=False)
    search_options(dupes_cmd)
    dupes_cmd.add_argument("sources", nargs="+", metavar="SOURCE")
    return {"index": _cmd_index, "search": _cmd_search, "dupes": _cmd_dupes}
