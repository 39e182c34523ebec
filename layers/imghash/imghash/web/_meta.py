"""``/v1/meta``: what the service is and what it accepts. Imports neither numpy nor Pillow."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from .. import __version__
from .._algorithms import ALGORITHMS
from .._compare import LIKELY_SAME_MAX_DISTANCE, MAX_UNSTABLE_BITS, MIN_QUALITY
from .._dihedral import DIHEDRAL, dihedral_algorithms
from .._formats import FORMATS
from .._profiles import DEFAULT_PROFILE, PROFILES
from .._settings import Settings
from ._batch_inputs import MAX_ITEMS, batch_body_limit
from ._common import settings_of
from ._docs import answer, error_responses
from ._envelope import MetaEnvelope, ok_response

__all__ = ["router"]

router = APIRouter(tags=["Meta"])
MESSAGE = "Meta"

#: Every endpoint of the service (each function mounts some of them).
ENDPOINTS = [
    "GET /v1/hash",
    "POST /v1/hash",
    "POST /v1/hash/batch",
    "GET /v1/compare",
    "POST /v1/compare",
    "GET /v1/search",
    "POST /v1/search",
    "GET /v1/meta",
]


def meta_data(settings: Settings, *, keyed: bool) -> dict[str, Any]:
    """The data of ``/v1/meta`` under ``settings``; ``keyed`` when a key is required."""
    return {
        "name": "Perceptual Image Hash API",
        "version": __version__,
        "note": "Compute aHash, dHash and pHash (64-bit, hex) for an image: /v1/hash?url= or "
        "?image= (base64), or POST the image; optional algorithm=ahash|dhash|phash|all, "
        "or pdq (Meta's 256-bit PDQ with its quality, asked for by name), "
        "profile=jimp|imagehash, fast=true. Compare two images via /v1/compare?url1=&url2= "
        "for the Hamming distance and similarity per algorithm and a likely_same flag; "
        "dihedral=true matches rotated and flipped copies. POST up to 100 images to "
        "/v1/hash/batch for the hashes, or the error, of each.",
        "source": "Local hashing (imghash, numpy and Pillow): no upstream service",
        "auth": "x-api-key header (API Gateway usage plans)"
        if keyed
        else "none configured locally",
        "endpoints": len({e.split()[1] for e in ENDPOINTS}),
        "routes": ENDPOINTS,
        "algorithms": {a.name: a.summary for a in ALGORITHMS.values()},
        "profiles": {p.name: p.summary for p in PROFILES.values()},
        "default_profile": DEFAULT_PROFILE,
        "formats": sorted(f for f in FORMATS if f != "heif" or find_spec("pillow_heif")),
        "likely_same": {
            "rule": "every deciding algorithm within its distance; an algorithm decides "
            "unless either image has more than max_unstable_bits of its bits decided by "
            "rounding noise or a quality score under min_quality; with dihedral=true only "
            "the dihedral algorithms decide; nothing decides (not likely the same) for a "
            "flat image",
            "max_distance": dict(LIKELY_SAME_MAX_DISTANCE),
            "max_unstable_bits": MAX_UNSTABLE_BITS,
            "min_quality": MIN_QUALITY,
        },
        "dihedral": {
            "algorithms": list(dihedral_algorithms()),
            "orientations": list(DIHEDRAL),
        },
        "limits": {
            "max_bytes": settings.max_bytes,
            "max_pixels": settings.max_pixels,
            "max_frames": settings.max_frames,
            "fetch_timeout_seconds": settings.fetch_timeout,
            "batch": {
                "max_items": MAX_ITEMS,
                "max_json_bytes": batch_body_limit(settings, "application/json"),
                "max_multipart_bytes": batch_body_limit(settings, "multipart/form-data"),
                "fetch_seconds": settings.batch_fetch_seconds,
                "seconds": settings.batch_seconds,
            },
        },
    }


@router.get(
    "/v1/meta",
    summary="About the service",
    response_model=MetaEnvelope,
    # The example is the answer of a default local server, made by the same function.
    responses={
        **answer(meta_data(Settings(), keyed=False), MESSAGE),
        **error_responses(401, 429, 500),
    },
)
async def get_meta(request: Request) -> JSONResponse:
    settings = settings_of(request)
    keyed = bool(settings.api_keys or request.scope.get("aws.event"))
    return ok_response(request, meta_data(settings, keyed=keyed), MESSAGE)
