"""``/v1/search``: indexed images near an image or a hash, nearest first (DESIGN §8)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from .._algorithms import ALGORITHMS
from .._compare import LIKELY_SAME_MAX_DISTANCE
from .._dihedral import DIHEDRAL, dihedral_algorithms
from .._errors import InvalidRequest
from .._profiles import resolve_profile
from .._query import (
    DEFAULT_ALGORITHM,
    SearchQuery,
    check_dihedral_search,
    hash_query,
    image_query,
    radius_limit,
    search_algorithm,
    search_radius,
)
from ._common import (
    EMPTY,
    OPTION_PROPERTIES,
    PROFILE_SCHEMA,
    hash_source,
    option_parameters,
    settings_of,
)
from ._docs import SEED_HASHES, answer, error_responses
from ._envelope import SearchEnvelope, ok_response
from ._inputs import Options, RequestInputs, read_inputs

if TYPE_CHECKING:
    from ..index import SearchService

__all__ = ["router"]

router = APIRouter(tags=["Search"])
MESSAGE = "Indexed images near the query"
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
#: The widest radius of any algorithm (PDQ's); each algorithm's own is checked per request.
_WIDEST = max(radius_limit(a) for a in ALGORITHMS.values())
_RANGES = "; ".join(
    f"0..{radius_limit(a)} for {a.name} (default {a.max_distance})" for a in ALGORITHMS.values()
)
HASH_TEXT = "a hash instead of an image, as hex of the algorithm's width: " + ", ".join(
    f"{a.bits // 4} digits for {a.name}" for a in ALGORITHMS.values()
)
DIHEDRAL_SEARCH = (
    "match every indexed image against the query image turned or flipped each of the eight "
    f"ways ({', '.join(DIHEDRAL)}): each match's orientation says which was nearest. Needs "
    f"an image (not a hash) and {' or '.join(dihedral_algorithms())}"
)

#: The search options, as the docs show them (the route reads them with ``_whole``).
OPTIONS: dict[str, dict[str, Any]] = {
    "algorithm": {
        "anyOf": [{"type": "string", "enum": list(ALGORITHMS), "title": "an algorithm"}, EMPTY],
        "default": DEFAULT_ALGORITHM,
        "description": f"the algorithm whose hashes are searched: {', '.join(ALGORITHMS)}",
    },
    "max_distance": {
        "anyOf": [{"type": "integer", "minimum": 0, "maximum": _WIDEST}, EMPTY],
        "description": "largest Hamming distance, by the algorithm's width (default: its "
        f"likely-same limit): {_RANGES}",
    },
    "limit": {
        "anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, EMPTY],
        "default": DEFAULT_LIMIT,
        "description": "at most this many matches",
    },
    "profile": PROFILE_SCHEMA | {"description": "the profile the index was built with"},
    "fast": OPTION_PROPERTIES["fast"],
    "dihedral": {"type": "boolean", "default": False, "description": DIHEDRAL_SEARCH},
}

#: The PDQ hash of the seed's photo (a test hashes the corpus's copy).
EXAMPLE_PDQ = "564e785eb0c31ac72b4b8e94d0e68dc3dfb04b4975cfd1eb8759a31c038d806d"
EXAMPLE = {
    "query": {
        "algorithm": "phash",
        "hash": SEED_HASHES["phash"],
        "max_distance": LIKELY_SAME_MAX_DISTANCE["phash"],
        "limit": DEFAULT_LIMIT,
        "profile": "jimp",
    },
    "matches": [
        {
            "bucket": "imghash-images-123456789012",
            "key": "images/holiday photos/DSCN0010.jpg",
            "distance": 0,
            # Records hold every algorithm of the registry, PDQ with its quality.
            "hashes": {**SEED_HASHES, "pdq": EXAMPLE_PDQ},
            "width": 640,
            "height": 480,
            "quality": {"pdq": 100},
        }
    ],
    "count": 1,
    "indexed": 37,
}
RESPONSES = {
    **answer(EXAMPLE, MESSAGE),
    **error_responses(400, 401, 413, 415, 429, 500, 502, 503, 504),
}

POST_BODY = {
    "parameters": option_parameters(defaults=False, properties=OPTIONS),
    "requestBody": {
        "description": "The query image as a raw body, multipart field `image` (or `file`), or "
        'JSON `{"url" | "image" | "hash", "algorithm", "max_distance", "limit", "dihedral"}`. '
        "The options may also be given in the query, which wins over the body.",
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        **OPTIONS,
                        # Left empty, not filled with Swagger's sample (the maximum).
                        "max_distance": OPTIONS["max_distance"] | {"example": ""},
                    },
                    "required": ["image"],
                }
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "url": {"type": "string", "description": "query image URL"},
                        "image": {"type": "string", "description": "query image in base64"},
                        "hash": {"type": "string", "description": HASH_TEXT},
                        **OPTIONS,
                    },
                },
                "example": {"hash": SEED_HASHES["phash"], "algorithm": "phash"},
            },
        },
    },
}


def _whole(inputs: RequestInputs, name: str, low: int, high: int) -> int | None:
    """A whole-number field from ``low`` to ``high``; None when not given (or empty)."""
    raw = inputs.fields.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidRequest(f"{name}={raw!r} must be a whole number from {low} to {high}")
    return int(raw)


def _service(request: Request) -> SearchService:
    service = getattr(request.app.state, "search", None)
    if service is None:  # built on first use: the store may be a file or a table
        # Read-only: a missing index file is the 503 index_not_found, never a new empty one.
        from ..index import SearchService, store_from_settings

        settings = settings_of(request)
        service = request.app.state.search = SearchService(
            store_from_settings(settings, read_only=True), ttl=settings.index_ttl
        )
    return service


async def _answer(request: Request, inputs: RequestInputs) -> JSONResponse:
    algorithm = search_algorithm(inputs.fields.get("algorithm"))
    profile = resolve_profile(inputs.fields.get("profile")).name
    k = search_radius(algorithm, _whole(inputs, "max_distance", 0, _WIDEST))
    limit = _whole(inputs, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    request.state.algorithm, request.state.profile = algorithm.name, profile
    given = inputs.fields.get("hash", "").strip()
    dihedral = inputs.boolean("dihedral")
    if dihedral:  # refused before any fetching or decoding
        check_dihedral_search(algorithm, by_hash=bool(given))
    if given:
        if (
            inputs.raw is not None
            or inputs.files
            or any(inputs.fields.get(n) for n in ("url", "image"))
        ):
            raise InvalidRequest("give hash, or an image (url, image, a body), not both")
        query = SearchQuery(hash_query(given, algorithm))
    else:
        options = Options(algorithm.name, profile, inputs.options().fast)
        source = inputs.image("url", "image", settings_of(request))
        result = await hash_source(request, source, options, dihedral=dihedral)
        query = image_query(result, algorithm, dihedral=dihedral)
    service = _service(request)
    matches, total = await run_in_threadpool(
        service.search,
        query.hashes,
        algorithm=algorithm.name,
        max_distance=k,
        limit=limit,
        profile=profile,
    )
    # A local index's files may be gone since they were indexed: each match says so.
    from ..index import mark_missing  # with the index, on first use (cold starts)

    await run_in_threadpool(mark_missing, matches)
    said = query.echo()
    data = {
        "query": {
            "algorithm": algorithm.name,
            "hash": said.pop("hash"),
            "max_distance": k,
            "limit": limit,
            "profile": profile,
            **said,
        },
        "matches": matches,
        "count": len(matches),
        "indexed": total,
    }
    return ok_response(request, data, MESSAGE)


@router.get(
    "/v1/search",
    summary="Find indexed images near an image or a hash",
    description="Give exactly one of `url`, `image` and `hash`: one of them is required.",
    response_model=SearchEnvelope,
    responses=RESPONSES,
    openapi_extra={"parameters": option_parameters(defaults=True, properties=OPTIONS)},
)
async def get_search(
    request: Request,
    url: str | None = Query(None, description="query image URL"),
    image: str | None = Query(None, description="query image in base64"),
    hash: str | None = Query(None, description=HASH_TEXT),
) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))


@router.post(
    "/v1/search",
    summary="Find indexed images near an uploaded image",
    response_model=SearchEnvelope,
    responses=RESPONSES,
    openapi_extra=POST_BODY,
)
async def post_search(request: Request) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))
