"""The API's own description: the OpenAPI document as the app serves it, and ``/docs``.

``/docs`` is Swagger UI with its assets served by the app itself, from the copy the
``fastapi-offline`` package ships, so that the page works with no network. The
Lambda functions serve no docs (API Gateway routes only the API's own paths to
them): their apps are built with ``docs=False`` and never import that package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .._algorithms import resolve_algorithms
from .._errors import ImghashError
from .._settings import Settings
from ._envelope import UNAUTHORIZED, ErrorEnvelope, internal_error_message

__all__ = [
    "API_KEY_SCHEME",
    "ERROR_EXAMPLES",
    "EXAMPLE_URL",
    "SEED_HASHES",
    "answer",
    "document",
    "error_responses",
    "new_app",
]

#: Name of the ``x-api-key`` security scheme in the document (Swagger's Authorize button).
API_KEY_SCHEME = "ApiKey"

#: Swagger UI options: show how long a call took; keep the key across reloads of the page.
_SWAGGER = {"displayRequestDuration": True, "persistAuthorization": True}


def new_app(*, docs: bool, **details: Any) -> FastAPI:
    """A bare FastAPI app; with ``docs``, ``/docs`` and ``/openapi.json`` served offline."""
    if not docs:
        return FastAPI(docs_url=None, redoc_url=None, openapi_url=None, **details)
    from fastapi_offline import FastAPIOffline

    return FastAPIOffline(
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs/assets",
        swagger_ui_parameters=_SWAGGER,
        **details,
    )


def document(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The app's OpenAPI document, built once: routes, the key scheme, no 422 answers.

    FastAPI's 422 answers are dropped because this app turns them into 400s. The key
    is required when the app checks keys (``IMGHASH_API_KEYS``, and always at the
    gateway); otherwise optional, so that the local page works with or without one.
    """
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for path in spec.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
                _error_examples(operation.get("responses", {}))
        components = spec.setdefault("components", {})
        schemas = components.get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        components["securitySchemes"] = {
            API_KEY_SCHEME: {
                "type": "apiKey",
                "in": "header",
                "name": "x-api-key",
                "description": "An API key: from a usage plan in AWS, one of "
                "IMGHASH_API_KEYS locally (no key is needed locally when that is empty).",
            }
        }
        required: dict[str, list[str]] = {API_KEY_SCHEME: []}
        spec["security"] = [required] if settings.api_keys else [required, {}]
        app.openapi_schema = spec
    return app.openapi_schema


#: The seed's example image (the corpus's photos/DSCN0010.jpg) where its spec keeps it.
EXAMPLE_URL = "https://raw.githubusercontent.com/ianare/exif-samples/master/jpg/gps/DSCN0010.jpg"

#: The seed's example: the hashes of EXAMPLE_URL's photo (a test hashes the corpus's copy).
SEED_HASHES = {
    "ahash": "fcfffff310100000",
    "dhash": "313c156666e4e584",
    "phash": "4edbd88c49eaf808",
}

#: The ``meta`` of every example: the seed's own.
EXAMPLE_META = {
    "timestamp": "2026-06-02T16:52:01.433Z",
    "request_id": "63dd58de-3f23-4e04-83bd-8fc695338515",
}


def _message(call: Callable[[str], object], argument: str) -> str:
    """The message of the error ``call(argument)`` raises: an example from the code itself."""
    try:
        call(argument)
    except ImghashError as err:
        return err.message
    raise AssertionError(f"{call.__name__}({argument!r}) raised nothing")


#: One real answer per error status, by name: ``(code, message)``. The tests make the
#: request each describes and compare; 429 is the gateway's (template.yaml).
ERROR_EXAMPLES: dict[int, dict[str, tuple[str, str]]] = {
    400: {
        "unknown algorithm": ("invalid_request", _message(resolve_algorithms, "xhash")),
        "private address": (
            "url_not_allowed",
            "the host '127.0.0.1' resolves to a non-public address (127.0.0.1); "
            "only public addresses are fetched",
        ),
    },
    401: {"no key": ("unauthorized", UNAUTHORIZED)},
    413: {
        "too many pixels": (
            "too_large",
            "the image is 10000x6000 = 60,000,000 pixels; the limit is 50,000,000 pixels",
        )
    },
    415: {
        "not an image": (
            "unsupported_image",
            "the input is an HTML page, not a raster image; "
            "send PNG, JPEG, GIF, BMP, TIFF, WebP or HEIC/HEIF",
        )
    },
    429: {
        "throttled": ("rate_limited", "request rate over the usage plan limit; slow down"),
        "quota": ("rate_limited", "monthly quota of the usage plan used up"),
    },
    500: {"a bug": ("internal_error", internal_error_message(EXAMPLE_META["request_id"]))},
    502: {"upstream failed": ("upstream_error", "the server behind the URL answered HTTP 404")},
    503: {
        "no index": (
            "index_not_found",
            "there is no index at /home/me/.local/share/imghash/index.db; build one first with "
            "`imghash index FOLDER` (--db or IMGHASH_DB choose where it goes)",
        )
    },
    504: {
        "upstream too slow": (
            "upstream_timeout",
            "the server behind the URL did not accept a connection within 3 s",
        )
    },
}

_WHEN = {
    400: "invalid_request (parameters) or url_not_allowed (a URL's scheme, port or address)",
    401: "unauthorized: missing or unknown x-api-key",
    413: "too_large: bytes, pixels or frames over the limits",
    415: "unsupported_image: not an image, or undecodable",
    429: "rate_limited: the usage plan's rate or monthly quota (at the gateway)",
    500: "internal_error: a bug; the message holds the request id to quote",
    502: "upstream_error: the URL's server failed, answered non-2xx, or sent too much",
    503: "index_not_found or index_corrupt: the local index is not built yet, or damaged",
    504: "upstream_timeout: the URL's server did not answer in time",
}


def _envelope_of(code: str, message: str) -> dict[str, Any]:
    return {
        "data": None,
        "meta": EXAMPLE_META,
        "status": "error",
        "message": message,
        "success": False,
        "error": {"code": code, "message": message},
    }


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the errors a route can give.

    Their examples are put in by :func:`document`: FastAPI drops every ``null`` from
    the examples it is given, and an error's ``data`` is ``null``.
    """
    return {status: {"model": ErrorEnvelope, "description": _WHEN[status]} for status in statuses}


def _error_examples(responses: dict[str, Any]) -> None:
    """Give each error response of an operation its examples, ``null``s kept."""
    for status, response in responses.items():
        examples = ERROR_EXAMPLES.get(int(status)) if status.isdigit() else None
        media = response.get("content", {}).get("application/json")
        if examples and media is not None:
            media["examples"] = {
                name: {"summary": code, "value": _envelope_of(code, message)}
                for name, (code, message) in examples.items()
            }


def answer(data: Any, message: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry of a success, with ``data`` as its example."""
    example = {
        "data": data,
        "meta": EXAMPLE_META,
        "status": "ok",
        "message": message,
        "success": True,
    }
    return {200: {"content": {"application/json": {"example": example}}}}
