"""``/v1/hash``: the hashes of one image."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import JSONResponse

from ._common import (
    OPTION_PROPERTIES,
    checked_options,
    hash_data,
    hash_source,
    option_parameters,
    settings_of,
)
from ._docs import EXAMPLE_URL, SEED_HASHES, answer, error_responses
from ._envelope import HashEnvelope, ok_response
from ._inputs import RequestInputs, read_inputs

__all__ = ["router"]

router = APIRouter(tags=["Hash"])
MESSAGE = "Perceptual hash of an image"

RESPONSES = {
    **answer(SEED_HASHES, MESSAGE),
    **error_responses(400, 401, 413, 415, 429, 500, 502, 504),
}

POST_BODY = {
    "parameters": option_parameters(defaults=False),
    "requestBody": {
        "description": "The image as a raw body (any image/* type; the format is sniffed), "
        "as multipart field `image` (or `file`), or JSON "
        '`{"url" | "image", "algorithm", "profile", "fast"}` with `image` in base64. '
        "The options may also be given in the query, which wins over the body.",
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {
                            "type": "string",
                            "format": "binary",
                            "description": "the image file (a field named `file` works too)",
                        },
                        **OPTION_PROPERTIES,
                    },
                    "required": ["image"],
                }
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "url": {"type": "string", "description": "image URL (http or https)"},
                        "image": {"type": "string", "description": "image bytes in base64"},
                        **OPTION_PROPERTIES,
                    },
                    # Exactly one image: by URL or in base64.
                    "oneOf": [{"required": ["url"]}, {"required": ["image"]}],
                },
                "example": {"url": EXAMPLE_URL, "algorithm": "all"},
            },
        },
    },
}


async def _answer(request: Request, inputs: RequestInputs) -> JSONResponse:
    options = checked_options(request, inputs.options())
    source = inputs.image("url", "image", settings_of(request))
    result = await hash_source(request, source, options)
    return ok_response(request, hash_data(result), MESSAGE)


@router.get(
    "/v1/hash",
    summary="Hash an image (by URL or base64)",
    description="Give exactly one of `url` and `image`: one of them is required.",
    response_model=HashEnvelope,
    responses=RESPONSES,
    openapi_extra={"parameters": option_parameters(defaults=True)},
)
async def get_hash(
    request: Request,
    url: str | None = Query(None, description="image URL (http or https)"),
    image: str | None = Query(None, description="image bytes in base64, data: URI allowed"),
) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))


@router.post(
    "/v1/hash",
    summary="Hash an uploaded image",
    response_model=HashEnvelope,
    responses=RESPONSES,
    openapi_extra=POST_BODY,
)
async def post_hash(request: Request) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))
