"""``/v1/hash/batch``: the hashes of up to 100 images in one request, item by item."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from ._batch_inputs import MAX_ID_CHARS, MAX_ITEMS, read_batch
from ._batch_run import run_batch
from ._common import (
    OPTION_PROPERTIES,
    checked_options,
    fetcher_of,
    hash_data,
    option_parameters,
    settings_of,
)
from ._docs import ERROR_EXAMPLES, EXAMPLE_URL, SEED_HASHES, answer, error_responses
from ._envelope import BatchEnvelope, ok_response
from ._inputs import Options

__all__ = ["EXAMPLE_REQUEST", "router"]

router = APIRouter(tags=["Hash"])
MESSAGE = "Perceptual hashes of a batch of images"

_ITEM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "description": "image URL (http or https)"},
        "image": {"type": "string", "description": "image bytes in base64, data: URI allowed"},
        "id": {
            "anyOf": [{"type": "string", "maxLength": MAX_ID_CHARS}, {"type": "integer"}],
            "description": "anything of yours to know the item by; the answer echoes it",
        },
    },
    "additionalProperties": False,
    # Exactly one image: by URL or in base64.
    "oneOf": [{"required": ["url"]}, {"required": ["image"]}],
}
_ITEMS: dict[str, Any] = {
    "type": "array",
    "items": _ITEM,
    "minItems": 1,
    "maxItems": MAX_ITEMS,
    "description": f"1 to {MAX_ITEMS} images, each by URL or in base64",
}

#: The request the documentation shows: the seed's photo by URL, an HTML page in base64
#: and a URL of a private address; EXAMPLE is what the service answers to it.
EXAMPLE_REQUEST = {
    "items": [
        {"url": EXAMPLE_URL, "id": "DSCN0010"},
        {"image": "data:text/html;base64,PCFkb2N0eXBlIGh0bWw+PHA+", "id": "page"},
        {"url": "http://127.0.0.1/photo.jpg", "id": "intranet"},
    ],
    "algorithm": "all",
}


def _failed(index: int, item_id: str, code_message: tuple[str, str]) -> dict[str, Any]:
    code, message = code_message
    return {"index": index, "id": item_id, "error": {"code": code, "message": message}}


EXAMPLE = {
    "results": [
        {"index": 0, "id": "DSCN0010", "data": SEED_HASHES},
        _failed(1, "page", ERROR_EXAMPLES[415]["not an image"]),
        _failed(2, "intranet", ERROR_EXAMPLES[400]["private address"]),
    ],
    "count": 3,
    "hashed": 1,
    "failed": 2,
}

POST_BODY = {
    "parameters": option_parameters(defaults=False),
    "requestBody": {
        "description": f'JSON `{{"items": [...], "algorithm", "profile", "fast"}}`, up to '
        f'{MAX_ITEMS} items each `{{"url"}}` or `{{"image"}}` (base64) with an optional '
        '`"id"`; or the bare list of items, with the options in the query. Or multipart: an '
        "`image` part per image (`file` works too), a `url` field per URL, and the options. "
        "The options may also be given in the query, which wins over the body. The answer "
        "holds every item in the request's order, with its hashes or its error (the code and "
        "message `/v1/hash` gives): one bad item never fails the batch. A batch's bytes, and "
        "its seconds for fetching and hashing, are limited as `/v1/meta` says.",
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "title": "items and options",
                            "properties": {"items": _ITEMS, **OPTION_PROPERTIES},
                            "required": ["items"],
                            "additionalProperties": False,
                        },
                        _ITEMS | {"title": "the bare list of items (options in the query)"},
                    ]
                },
                "example": EXAMPLE_REQUEST,
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "maxItems": MAX_ITEMS,
                            "description": "the image files, a part each (or parts named file)",
                        },
                        "url": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "image URLs, a field each",
                            "example": [],
                        },
                        **OPTION_PROPERTIES,
                    },
                    "required": ["image"],
                }
            },
        },
    },
}


@router.post(
    "/v1/hash/batch",
    summary="Hash up to 100 images",
    response_model=BatchEnvelope,
    responses={**answer(EXAMPLE, MESSAGE), **error_responses(400, 401, 413, 429, 500)},
    openapi_extra=POST_BODY,
)
async def post_batch(request: Request) -> JSONResponse:
    settings = settings_of(request)
    batch = await read_batch(request, settings)
    options: Options = checked_options(request, batch.options)

    # Built here, in the event loop, and only when a URL needs it (else httpx stays unloaded).
    fetcher = fetcher_of(request) if any(item.url for item in batch.items) else None

    def fetch(url: str, seconds: float) -> bytes:
        assert fetcher is not None  # there is a URL to fetch
        return fetcher.fetch(url, timeout=seconds)

    def hash_(data: bytes) -> dict[str, object]:
        from .._hashing import hash_image

        result = hash_image(
            data,
            algorithms=options.algorithm,
            profile=options.profile,
            fast=options.fast,
            settings=settings,
        )
        return hash_data(result)

    results = await run_batch(
        batch.items,
        fetch=fetch,
        hash_=hash_,
        settings=settings,
        request_id=request.state.request_id,
    )
    failed = sum(1 for item in results if "error" in item)
    data = {
        "results": results,
        "count": len(results),
        "hashed": len(results) - failed,
        "failed": failed,
    }
    return ok_response(request, data, MESSAGE)
