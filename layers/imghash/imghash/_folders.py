"""Many images at once: folders walked for image files, the files hashed on every core."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._errors import ImghashError, InvalidRequest
from ._hashing import HashResult, hash_image
from ._parallel import WorkerDied, run_ordered
from ._settings import Settings

__all__ = ["IMAGE_SUFFIXES", "STDIN", "HashOptions", "expand", "hash_many", "walk"]

#: File endings picked up when a folder is walked; files named one by one are always tried.
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
#: The source that stands for standard input on the command line.
STDIN = "-"


def walk(folder: str | os.PathLike[str]) -> list[str]:
    """The image files below ``folder``, recursively, sorted."""
    return sorted(
        str(p)
        for p in Path(folder).rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )


def expand(sources: Iterable[str | os.PathLike[str]]) -> Iterator[str]:
    """Each source, with folders replaced by the image files below them, sorted."""
    for source in sources:
        text = os.fspath(source)
        if text != STDIN and Path(text).is_dir():
            yield from walk(text)
        else:
            yield text


@dataclass(frozen=True)
class HashOptions:
    """How every image of a batch is hashed (sent to each worker process)."""

    algorithms: str | Sequence[str] | None
    profile: str
    fast: bool
    settings: Settings
    #: Hash the image turned each way too (``HashResult.dihedral``).
    dihedral: bool = False


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def hash_task(job: tuple[HashOptions, str | bytes]) -> HashResult | ImghashError:
    """Hash one source in a worker: a path, an http(s) URL, or bytes already read."""
    options, source = job
    try:
        if isinstance(source, str) and _is_url(source):
            try:
                from ._fetch import Fetcher
            except ImportError:
                raise InvalidRequest(
                    "URL sources need the web extra: pip install 'imghash-service[web]'"
                ) from None
            source = Fetcher(options.settings).fetch(source)
        return hash_image(
            source,
            algorithms=options.algorithms,
            profile=options.profile,
            fast=options.fast,
            settings=options.settings,
            dihedral=options.dihedral,
        )
    except ImghashError as err:
        return err


def crashed(died: WorkerDied) -> ImghashError:
    """A worker's death as the error reported for the image it was hashing."""
    return ImghashError(f"{died}; the image may need more memory than is available")


def hash_many(
    sources: Sequence[str | bytes], options: HashOptions, jobs: int
) -> Generator[HashResult | ImghashError, None, None]:
    """Hash each source (a path, a URL, or bytes), in order, ``jobs`` worker processes at a time.

    A source that cannot be hashed gives its error in its place; the others go on.
    """
    for outcome in run_ordered(hash_task, [(options, source) for source in sources], jobs):
        yield crashed(outcome) if isinstance(outcome, WorkerDied) else outcome
