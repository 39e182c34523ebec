"""What the routes share: settings and the fetcher from the app, and the hashing call."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .._algorithms import ALGORITHMS, ALL, resolve_algorithms
from .._dihedral import DIHEDRAL, dihedral_algorithms
from .._profiles import DEFAULT_PROFILE, PROFILES, resolve_profile
from .._settings import Settings
from ._inputs import ImageSource, Options

if TYPE_CHECKING:
    from .._fetch import Fetcher
    from .._hashing import HashResult

__all__ = [
    "ALGORITHM",
    "ALGORITHM_SCHEMA",
    "COMPARE_PROPERTIES",
    "FAST",
    "OPTION_PROPERTIES",
    "PROFILE",
    "PROFILE_SCHEMA",
    "checked_options",
    "fetcher_of",
    "hash_data",
    "hash_source",
    "option_parameters",
    "settings_of",
]

ALGORITHM = (
    f"{', '.join(ALGORITHMS)} or all (the default: {', '.join(a.name for a in ALL)}), or a "
    f"comma list such as {','.join(list(ALGORITHMS)[:2])}"
)
PROFILE = "; ".join(f"{p.name}: {p.summary}" for p in PROFILES.values())
FAST = "let the JPEG decoder scale down first: faster, a bit or two may differ"
DIHEDRAL_OPTION = (
    "match the second image against the first turned or flipped each of the eight ways "
    f"({', '.join(DIHEDRAL)}): the answer's orientation says which matched, and only "
    f"{' and '.join(dihedral_algorithms())} decide likely_same"
)

_NAME = "(?:" + "|".join(re.escape(name) for name in ["all", *ALGORITHMS]) + ")"

#: The options' schemas, from the registries: a new algorithm or profile shows up here by
#: itself. An algorithm is one name (a drop-down in /docs) or a comma list of names.
ALGORITHM_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "enum": ["all", *ALGORITHMS], "title": "one algorithm"},
        {"type": "string", "pattern": f"^{_NAME}(?:,{_NAME})*$", "title": "a comma list"},
    ],
    "default": "all",
    "description": ALGORITHM,
}
PROFILE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "enum": list(PROFILES),
    "default": DEFAULT_PROFILE,
    "description": PROFILE,
}
#: The options as properties of a POST body (multipart or JSON).
OPTION_PROPERTIES: dict[str, dict[str, Any]] = {
    "algorithm": ALGORITHM_SCHEMA,
    "profile": PROFILE_SCHEMA,
    "fast": {"type": "boolean", "default": False, "description": FAST},
}
#: Compare's options: the hashing options and dihedral matching.
COMPARE_PROPERTIES: dict[str, dict[str, Any]] = {
    **OPTION_PROPERTIES,
    "dihedral": {"type": "boolean", "default": False, "description": DIHEDRAL_OPTION},
}


def option_parameters(
    *, defaults: bool, properties: Mapping[str, dict[str, Any]] = OPTION_PROPERTIES
) -> list[dict[str, Any]]:
    """The options (``properties``) as query parameters of an operation's description.

    A GET shows their defaults. A POST does not: its body may carry the options too,
    and the query, which wins, must not send a default over the body's choice.
    """
    parameters = []
    for name, schema in properties.items():
        if not defaults:
            schema = {key: value for key, value in schema.items() if key != "default"}
        parameters.append(
            {"name": name, "in": "query", "description": schema["description"], "schema": schema}
        )
    return parameters


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def fetcher_of(request: Request) -> Fetcher:
    """The app's fetcher, built on first use."""
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


async def hash_source(
    request: Request, source: ImageSource, options: Options, *, dihedral: bool = False
) -> HashResult:
    """Fetch (when a URL) and hash one image, off the event loop; ``dihedral``: turned too."""
    from .._hashing import hash_image

    settings = settings_of(request)
    fetcher = fetcher_of(request) if source.url is not None else None

    def work() -> HashResult:
        data = source.data if fetcher is None else fetcher.fetch(source.url or "")
        return hash_image(
            data or b"",
            algorithms=options.algorithm,
            profile=options.profile,
            fast=options.fast,
            settings=settings,
            dihedral=dihedral,
        )

    return await run_in_threadpool(work)


def hash_data(result: HashResult) -> dict[str, object]:
    """The data ``/v1/hash`` answers for one image: its hashes and what they signal."""
    return {**result.hex(), **result.signals()}
