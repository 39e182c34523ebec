"""What the routes share: settings and the fetcher from the app, and the hashing call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .._algorithms import resolve_algorithms
from .._profiles import resolve_profile
from .._settings import Settings
from ._inputs import ImageSource, Options

if TYPE_CHECKING:
    from .._fetch import Fetcher
    from .._hashing import HashResult

__all__ = [
    "ALGORITHM",
    "FAST",
    "PROFILE",
    "checked_options",
    "hash_options",
    "hash_source",
    "settings_of",
]

ALGORITHM = "ahash, dhash, phash, all (default) or a comma list"
PROFILE = "jimp (default, the reference values) or imagehash (the imagehash library's)"
FAST = "let the JPEG decoder scale down first: faster, a bit or two may differ"


async def hash_options(
    algorithm: str | None = Query(None, description=ALGORITHM),
    profile: str | None = Query(None, description=PROFILE),
    fast: bool = Query(False, description=FAST),
) -> None:
    """Declares (for validation and the docs) the options every hashing route takes.

    The values themselves are read with the body's fields by ``read_inputs``, since a
    POST may carry them in multipart or JSON as well as in the query.
    """


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _fetcher(request: Request) -> Fetcher:
    fetcher: Fetcher | None = request.app.state.fetcher
    if fetcher is None:  # built on first use: routes without URLs never import httpx
        from .._fetch import Fetcher

        fetcher = request.app.state.fetcher = Fetcher(settings_of(request))
    return fetcher


def checked_options(request: Request, options: Options) -> Options:
    """Refuse unknown algorithms or profiles before any fetching or decoding."""
    algorithms = resolve_algorithms(options.algorithm)
    profile = resolve_profile(options.profile)
    request.state.algorithm = ",".join(a.name for a in algorithms)
    request.state.profile = profile.name
    return options


async def hash_source(request: Request, source: ImageSource, options: Options) -> HashResult:
    """Fetch (when a URL) and hash one image, off the event loop."""
    from .._hashing import hash_image

    settings = settings_of(request)
    fetcher = _fetcher(request) if source.url is not None else None

    def work() -> HashResult:
        data = source.data if fetcher is None else fetcher.fetch(source.url or "")
        return hash_image(
            data or b"",
            algorithms=options.algorithm,
            profile=options.profile,
            fast=options.fast,
            settings=settings,
        )

    return await run_in_threadpool(work)
