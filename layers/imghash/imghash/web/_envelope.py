"""The seed's response envelope, for answers and errors, and its schema for the docs."""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = [
    "UNAUTHORIZED",
    "ErrorEnvelope",
    "error_response",
    "internal_error_message",
    "ok_response",
    "request_id_of",
]


#: The 401 message, here and at the gateway (template.yaml's INVALID_API_KEY).
UNAUTHORIZED = "missing or unknown x-api-key header"


def internal_error_message(request_id: str) -> str:
    """A 500's whole message: nothing internal, only what to quote when reporting it."""
    return f"internal error; quote request id {request_id}"


def _timestamp() -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as the seed prints it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_id_of(scope: MutableMapping[str, Any]) -> str:
    """API Gateway's request id when the request came through it, else a fresh UUID."""
    event = scope.get("aws.event")
    if isinstance(event, dict):
        context = event.get("requestContext")
        if isinstance(context, dict) and isinstance(context.get("requestId"), str):
            return str(context["requestId"])
    return str(uuid.uuid4())


def _meta(request_id: str) -> dict[str, str]:
    return {"timestamp": _timestamp(), "request_id": request_id}


def ok_response(request: Request, data: Any, message: str) -> JSONResponse:
    """``{"data", "meta", "status": "ok", "message", "success": true}``."""
    body = {
        "data": data,
        "meta": _meta(request.state.request_id),
        "status": "ok",
        "message": message,
        "success": True,
    }
    return JSONResponse(body)


def error_response(request_id: str, status: int, code: str, message: str) -> JSONResponse:
    """The same envelope with ``data: null``, ``success: false`` and ``error``."""
    body = {
        "data": None,
        "meta": _meta(request_id),
        "status": "error",
        "message": message,
        "success": False,
        "error": {"code": code, "message": message},
    }
    return JSONResponse(body, status_code=status)


class Meta(BaseModel):
    timestamp: str = Field(examples=["2026-06-02T16:52:01.433Z"])
    request_id: str = Field(examples=["63dd58de-3f23-4e04-83bd-8fc695338515"])


class ErrorBody(BaseModel):
    code: str = Field(examples=["unsupported_image"])
    message: str


class ErrorEnvelope(BaseModel):
    """Every error: the envelope with ``data: null`` and an ``error`` object."""

    data: None = None
    meta: Meta
    status: str = Field(examples=["error"])
    message: str
    success: bool = Field(examples=[False])
    error: ErrorBody


class HashData(BaseModel):
    ahash: str | None = Field(None, examples=["fcfffff310100000"])
    dhash: str | None = Field(None, examples=["313c156666e4e584"])
    phash: str | None = Field(None, examples=["4edbd88c49eaf808"])
    pdq: str | None = Field(
        None,
        examples=["564e785eb0c31ac72b4b8e94d0e68dc3dfb04b4975cfd1eb8759a31c038d806d"],
        description="Meta's PDQ, 256 bits as 64 hex digits (only when asked for by name)",
    )
    low_information: bool | None = Field(
        None,
        description="present, and true, for a flat image whose bits are noise, one "
        "whose pHash is mostly noise (more than half of its bits unstable), or one whose "
        "PDQ quality is under 50",
    )
    unstable_bits: dict[str, int] | None = Field(
        None,
        examples=[{"phash": 12}],
        description="present when some pHash bits were decided by floating-point rounding "
        "noise (a coefficient tied with the median): how many, by algorithm",
    )
    quality: dict[str, int] | None = Field(
        None,
        examples=[{"pdq": 100}],
        description="present when PDQ was computed: its quality score, 0 to 100, by "
        "algorithm; under 50 the hash is low information (Meta advises discarding it)",
    )


class _Answer(BaseModel):
    """What every successful answer carries besides its data."""

    meta: Meta
    status: str = Field(examples=["ok"])
    message: str
    success: bool = Field(examples=[True])


class HashEnvelope(_Answer):
    data: HashData


class BatchItem(BaseModel):
    """One item of a batch, in the request's order: its hashes, or its error."""

    index: int = Field(examples=[0], description="the item's place in the request, from 0")
    id: str | int | None = Field(
        None,
        examples=["DSCN0010"],
        description="the item's id as given (a multipart file's name); only when it has one",
    )
    data: HashData | None = Field(
        None, description="the item's hashes, as /v1/hash answers them; only when hashed"
    )
    error: ErrorBody | None = Field(
        None, description="only when the item failed: the code and message /v1/hash would give"
    )


class BatchData(BaseModel):
    results: list[BatchItem]
    count: int = Field(examples=[3], description="items in the batch")
    hashed: int = Field(examples=[1], description="items hashed")
    failed: int = Field(examples=[2], description="items that failed, each with its error")


class BatchEnvelope(_Answer):
    data: BatchData


class AlgorithmFigures(BaseModel):
    distance: int = Field(examples=[0])
    similarity: int = Field(examples=[100])


class CompareData(BaseModel):
    hashes: dict[str, HashData]
    comparison: dict[str, AlgorithmFigures]
    likely_same: bool
    decided_by: list[str] = Field(
        description="the algorithms whose distances decided likely_same: those with at most "
        "2 unstable bits and a quality of at least 50 (PDQ) on both sides, only pHash and "
        "PDQ with dihedral=true, none for a flat image",
        examples=[["ahash", "dhash", "phash"]],
    )
    average_similarity: int
    low_information: dict[str, bool]
    unstable_bits: dict[str, dict[str, int]] = Field(
        description="each image's count of noise-decided bits, by algorithm (pHash)",
        examples=[{"image1": {"phash": 0}, "image2": {"phash": 0}}],
    )
    quality: dict[str, dict[str, int]] | None = Field(
        None,
        description="present when PDQ was compared: each image's quality score, by "
        "algorithm; PDQ decides only when both are at least 50",
        examples=[{"image1": {"pdq": 100}, "image2": {"pdq": 100}}],
    )
    orientation: str | None = Field(
        None,
        description="present with dihedral=true: how the first image, turned or flipped, "
        "matched the second best (original, rotate90, rotate180, rotate270 counter-"
        "clockwise; flipx upside down, flipy mirrored, flipplus1 and flipminus1 the "
        "diagonals); the distances of pHash and PDQ are those of that orientation",
        examples=["rotate90"],
    )


class CompareEnvelope(_Answer):
    data: CompareData


class Match(BaseModel):
    bucket: str = Field(examples=["imghash-images-123456789012"])
    key: str = Field(examples=["images/holiday photos/DSCN0010.jpg"])
    distance: int = Field(examples=[0])
    hashes: HashData
    width: int | None = Field(None, examples=[640])
    height: int | None = Field(None, examples=[480])
    fast: bool | None = Field(
        None,
        description="present, and true, when the record was hashed in fast mode (`imghash "
        "index --fast`): its hashes may be a few bits from the exact ones",
    )
    missing: bool | None = Field(
        None,
        description="present for a local file (bucket `file`, the local server's index): "
        "true when the file is gone since it was indexed (`imghash index FOLDER` forgets it)",
    )
    quality: dict[str, int] | None = Field(
        None, examples=[{"pdq": 100}], description="the record's PDQ quality, 0 to 100"
    )
    orientation: str | None = Field(
        None,
        description="present with dihedral=true: the turn of the query image this record "
        "matched nearest (original, rotate90, ...; see /v1/compare)",
        examples=["flipy"],
    )


class SearchData(BaseModel):
    query: dict[str, Any] = Field(
        description="what was searched for; with unstable_bits when some of the query "
        "image's bits were decided by rounding noise (its matches are then unreliable), "
        "dihedral: true when its eight turns were searched, and for a PDQ query image its "
        "quality, with low_information: true under 50 (Meta advises discarding such hashes)"
    )
    matches: list[Match]
    count: int
    indexed: int


class SearchEnvelope(_Answer):
    data: SearchData


class MetaEnvelope(_Answer):
    data: dict[str, Any]
