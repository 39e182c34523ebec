"""``/v1/compare``: two images, each from any source, compared per algorithm."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import JSONResponse

from .._algorithms import resolve_algorithms
from .._compare import compare, compare_hashes
from .._dihedral import check_dihedral
from .._errors import InvalidRequest
from .._hashvalue import Hash
from ._common import (
    COMPARE_PROPERTIES,
    checked_options,
    hash_source,
    option_parameters,
    settings_of,
)
from ._docs import EXAMPLE_URL, SEED_HASHES, answer, error_responses
from ._envelope import CompareEnvelope, ok_response
from ._inputs import RequestInputs, read_inputs

__all__ = ["router"]

router = APIRouter(tags=["Hash"])
MESSAGE = "Compare two images"

#: The seed's example, the same photo on both sides (none of its pHash bits unstable), as
#: the comparison code words it; a test compares it with the answer for the real photo.
_SEED = {name: Hash.from_hex(value) for name, value in SEED_HASHES.items()}
EXAMPLE = compare_hashes(_SEED, _SEED, unstable_bits=({"phash": 0}, {"phash": 0})).to_dict()
RESPONSES = {**answer(EXAMPLE, MESSAGE), **error_responses(400, 401, 413, 415, 429, 500, 502, 504)}

#: A text field Swagger UI leaves empty rather than filling with "string": the API
#: reads an empty field as not given.
_EMPTY_TEXT = {"type": "string", "example": ""}

POST_BODY = {
    "parameters": option_parameters(defaults=False, properties=COMPARE_PROPERTIES),
    "requestBody": {
        "description": "Multipart fields `image1` and `image2` (files, or base64 text; `file1` "
        'and `file2` work too) or `url1`/`url2`, or JSON `{"url1" | "image1", "url2" | '
        '"image2", "algorithm", "profile", "fast", "dihedral"}`. The options may also be given '
        "in the query, which wins over the body.",
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image1": {"type": "string", "format": "binary"},
                        "image2": {"type": "string", "format": "binary"},
                        "url1": _EMPTY_TEXT | {"description": "or the first image's URL"},
                        "url2": _EMPTY_TEXT | {"description": "or the second image's URL"},
                        **COMPARE_PROPERTIES,
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "url1": {"type": "string", "description": "first image URL"},
                        "image1": {"type": "string", "description": "first image in base64"},
                        "url2": {"type": "string", "description": "second image URL"},
                        "image2": {"type": "string", "description": "second image in base64"},
                        **COMPARE_PROPERTIES,
                    },
                    # Each image exactly once: by URL or in base64.
                    "allOf": [
                        {"oneOf": [{"required": ["url1"]}, {"required": ["image1"]}]},
                        {"oneOf": [{"required": ["url2"]}, {"required": ["image2"]}]},
                    ],
                },
                "example": {"url1": EXAMPLE_URL, "url2": EXAMPLE_URL, "algorithm": "all"},
            },
        },
    },
}


async def _answer(request: Request, inputs: RequestInputs) -> JSONResponse:
    if inputs.raw is not None:
        raise InvalidRequest("compare takes two images: multipart image1/image2, or JSON")
    options = checked_options(request, inputs.options())
    if options.dihedral:  # refused before any fetching or decoding
        check_dihedral([a.name for a in resolve_algorithms(options.algorithm)])
    settings = settings_of(request)
    first = inputs.image("url1", "image1", settings)
    second = inputs.image("url2", "image2", settings)
    one, two = await asyncio.gather(
        hash_source(request, first, options, dihedral=options.dihedral),
        hash_source(request, second, options),
    )
    return ok_response(request, compare(one, two, dihedral=options.dihedral).to_dict(), MESSAGE)


@router.get(
    "/v1/compare",
    summary="Compare two images (by URL or base64)",
    description="Each image is required, given once: `url1` or `image1`, and `url2` or `image2`.",
    response_model=CompareEnvelope,
    responses=RESPONSES,
    openapi_extra={"parameters": option_parameters(defaults=True, properties=COMPARE_PROPERTIES)},
)
async def get_compare(
    request: Request,
    url1: str | None = Query(None, description="first image URL"),
    url2: str | None = Query(None, description="second image URL"),
    image1: str | None = Query(None, description="first image in base64"),
    image2: str | None = Query(None, description="second image in base64"),
) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))


@router.post(
    "/v1/compare",
    summary="Compare two uploaded images",
    response_model=CompareEnvelope,
    responses=RESPONSES,
    openapi_extra=POST_BODY,
)
async def post_compare(request: Request) -> JSONResponse:
    return await _answer(request, await read_inputs(request, settings_of(request)))
