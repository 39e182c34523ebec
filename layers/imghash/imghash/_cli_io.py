"""What every ``imghash`` command shares: its output, its progress bar and its sources.

Results go to standard output, one line each; messages and the progress bar go to
standard error. The bar (tqdm) is drawn only when standard error is a terminal, and
it is cleared before any line is written and drawn again after, so a line of output
never shares a terminal line with it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ._errors import ImghashError
from ._folders import IMAGE_SUFFIXES, STDIN, HashOptions, hash_many, walk
from ._hashing import HashResult
from ._parallel import default_jobs
from ._settings import Settings

__all__ = [
    "EXIT_CLOSED_PIPE",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Console",
    "expand_sources",
    "hash_one",
    "hash_sources",
    "jobs_of",
    "options_of",
]

EXIT_OK = 0
#: Some source failed (the others were handled); for ``compare``: not likely the same.
EXIT_FAILED = 1
#: A usage error (argparse's own status); for ``compare``: any error.
EXIT_USAGE = 2
#: The reader of standard output went away (``| head``): 128 + SIGPIPE, the status a
#: shell reports for a Unix tool stopped by the same event.
EXIT_CLOSED_PIPE = 141


def _progress_bar(total: int) -> Any:
    """tqdm's bar on standard error, without tqdm's monitor thread.

    The monitor only tunes how often a bar that stalls is redrawn (this one moves with
    every image). Its thread would make the worker pool start its processes from a fork
    server, importing numpy and Pillow again, instead of forking them ready: in a
    terminal, --jobs 2 on the 36 corpus photos then took longer than --jobs 1.
    """
    from tqdm import tqdm

    class Bar(tqdm):  # type: ignore[misc]
        monitor_interval = 0

    return Bar(total=total, file=sys.stderr, unit="image", leave=False, dynamic_ncols=True)


class Console:
    """Output lines, messages and a progress bar over ``total`` items."""

    def __init__(self, args: argparse.Namespace, total: int = 0) -> None:
        self.json = bool(getattr(args, "json", False))
        self._bar: Any = None
        if total > 1 and sys.stderr.isatty():
            self._bar = _progress_bar(total)

    def __enter__(self) -> Console:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Clear the bar (before a summary line, and on the way out)."""
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.close()

    def _write(self, stream: Any, text: str) -> None:
        if self._bar is None:
            stream.write(text)
            stream.flush()
            return
        with self._bar.external_write_mode(file=stream):  # the bar is cleared meanwhile
            stream.write(text)
            stream.flush()

    def line(self, text: str) -> None:
        """A line of results on standard output."""
        self._write(sys.stdout, text + "\n")

    def emit(self, obj: dict[str, Any]) -> None:
        """One JSON object on its own line of standard output."""
        self.line(json.dumps(obj, ensure_ascii=False))

    def note(self, text: str) -> None:
        """A message on standard error, prefixed ``imghash:``."""
        self._write(sys.stderr, f"imghash: {text}\n")

    def report(self, source: str, error: Mapping[str, str]) -> None:
        """A failed source (``{"code", "message"}``): a JSON line with --json, else a
        message on standard error."""
        if self.json:
            self.emit({"source": source, "error": dict(error)})
        else:
            self.note(f"{source}: {error['message']} ({error['code']})")

    def step(self) -> None:
        """One more item done."""
        if self._bar is not None:
            self._bar.update(1)


def options_of(
    args: argparse.Namespace, settings: Settings, algorithms: str | None = None
) -> HashOptions:
    """The hashing options given on the command line."""
    return HashOptions(
        algorithms or getattr(args, "algorithm", "all"), args.profile, args.fast, settings
    )


def jobs_of(args: argparse.Namespace) -> int:
    """``--jobs``, else one worker process per core."""
    jobs: int | None = getattr(args, "jobs", None)
    return jobs or default_jobs()


def expand_sources(sources: Sequence[str]) -> list[str]:
    """The sources with each folder replaced by its image files, sorted; an empty
    folder is said to be empty (on standard error) rather than passed over in silence."""
    found: list[str] = []
    for source in sources:
        if source != STDIN and Path(source).is_dir():
            files = walk(source)
            if not files:
                sys.stderr.write(
                    f"imghash: no image files in {source} "
                    f"(looked for {' '.join(sorted(IMAGE_SUFFIXES))})\n"
                )
            found.extend(files)
        else:
            found.append(source)
    return found


def _payloads(sources: Sequence[str], settings: Settings) -> list[str | bytes]:
    # Standard input belongs to this process: it is read here, and the bytes sent on.
    return [
        sys.stdin.buffer.read(settings.max_bytes + 1) if source == STDIN else source
        for source in sources
    ]


def hash_sources(
    sources: Sequence[str], options: HashOptions, jobs: int
) -> Generator[HashResult | ImghashError, None, None]:
    """Hash each command-line source (a file, ``-``, an http(s) URL), in order."""
    return hash_many(_payloads(sources, options.settings), options, jobs)


def hash_one(source: str, options: HashOptions) -> HashResult:
    """Hash one command-line source in this process; raises its ``ImghashError``."""
    [outcome] = list(hash_sources([source], options, 1))
    if isinstance(outcome, ImghashError):
        raise outcome
    return outcome
