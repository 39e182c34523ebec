"""``/v1/hash``: the hashes of one image."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import JSONResponse

from ._common import checked_options, hash_options, hash_source, settings_of
from ._envelope import HashEnvelope, error_responses, ok_response
from ._inputs import RequestInputs, read_inputs

__all__ = ["router"]

router = APIRouter(tags=["Hash"])
MESSAGE = "Perceptual hash of an image"
ERRORS = error_responses(400, 401, 413, 415, 429, 500, 502, 504)

POST_BODY = {
    "requestBody": {
        "description": "The image as a raw body (any image/* type; the format is sniffed), "
        'as multipart field `image`, or JSON `{"url" | "image", "algorithm", "profile", '
        '"fast"}` with `image` in base64. Options may also be given in the query.',
        "required": True,
        "content": {
            "image/*": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        "algorithm": {"type": "string"},
                        "profile": {"type": "string"},
                        "fast": {"type": "boolean"},
                    },
                    "required": ["image"],
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "url": {"type": "string"},
                        "image": {"type": "string", "description": "base64"},
                        "algorithm": {"type": "string"},
                        "profile": {"type": "string"},
                        "fast": {"type": "boolean"},
                    },
                }
            },
        },
    }
}


async def _answer(request: Request, inputs: RequestInputs) -> JSONResponse:
    options = checked_options(request, inputs.options())
    source = inputs.image("url", "image", settings_of(request))
    result = await hash_source(request, source, options)
    data: dict[str, object] = {**result.hex(), **result.signals()}
    return ok_response(request, data, MESSAGE)


@router.get(
    "/v1/hash",
    summary="Hash an image (by URL or base64)",
    response_model=HashEnvelope,
    responses=ERRORS,
)
async def get_hash(
    request: Request,
    url: str | None = Query(None, description="image URL (http or https)"),
    image: str | None = Query(None, description="image bytes in base64, data: URI allowed"),
    _: None = Depends(hash_options),
) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))


@router.post(
    "/v1/hash",
    summary="Hash an uploaded image",
    response_model=HashEnvelope,
    responses=ERRORS,
    openapi_extra=POST_BODY,
)
async def post_hash(
    request: Request,
    _: None = Depends(hash_options),
) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))
