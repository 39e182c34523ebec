"""``/v1/compare``: two images, each from any source, compared per algorithm."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import JSONResponse

from .._compare import compare
from .._errors import InvalidRequest
from ._common import checked_options, hash_options, hash_source, settings_of
from ._envelope import CompareEnvelope, error_responses, ok_response
from ._inputs import RequestInputs, read_inputs

__all__ = ["router"]

router = APIRouter(tags=["Hash"])
MESSAGE = "Compare two images"
ERRORS = error_responses(400, 401, 413, 415, 429, 500, 502, 504)

POST_BODY = {
    "requestBody": {
        "description": "Multipart fields `image1` and `image2` (files, or base64 text), or JSON "
        '`{"url1" | "image1", "url2" | "image2", "algorithm", "profile", "fast"}`.',
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image1": {"type": "string", "format": "binary"},
                        "image2": {"type": "string", "format": "binary"},
                        "url1": {"type": "string"},
                        "url2": {"type": "string"},
                        "algorithm": {"type": "string"},
                        "profile": {"type": "string"},
                        "fast": {"type": "boolean"},
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "url1": {"type": "string"},
                        "image1": {"type": "string"},
                        "url2": {"type": "string"},
                        "image2": {"type": "string"},
                        "algorithm": {"type": "string"},
                        "profile": {"type": "string"},
                        "fast": {"type": "boolean"},
                    },
                    # Each image exactly once: by URL or in base64.
                    "allOf": [
                        {"oneOf": [{"required": ["url1"]}, {"required": ["image1"]}]},
                        {"oneOf": [{"required": ["url2"]}, {"required": ["image2"]}]},
                    ],
                }
            },
        },
    }
}


async def _answer(request: Request, inputs: RequestInputs) -> JSONResponse:
    if inputs.raw is not None:
        raise InvalidRequest("compare takes two images: multipart image1/image2, or JSON")
    options = checked_options(request, inputs.options())
    settings = settings_of(request)
    first = inputs.image("url1", "image1", settings)
    second = inputs.image("url2", "image2", settings)
    one, two = await asyncio.gather(
        hash_source(request, first, options), hash_source(request, second, options)
    )
    return ok_response(request, compare(one, two).to_dict(), MESSAGE)


@router.get(
    "/v1/compare",
    summary="Compare two images (by URL or base64)",
    description="Each image is required, given once: `url1` or `image1`, and `url2` or `image2`.",
    response_model=CompareEnvelope,
    responses=ERRORS,
)
async def get_compare(
    request: Request,
    url1: str | None = Query(None, description="first image URL"),
    url2: str | None = Query(None, description="second image URL"),
    image1: str | None = Query(None, description="first image in base64"),
    image2: str | None = Query(None, description="second image in base64"),
    _: None = Depends(hash_options),
) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))


@router.post(
    "/v1/compare",
    summary="Compare two uploaded images",
    response_model=CompareEnvelope,
    responses=ERRORS,
    openapi_extra=POST_BODY,
)
async def post_compare(
    request: Request,
    _: None = Depends(hash_options),
) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))
