"""The app factory: mounts any of the routers, maps every error to the envelope, logs.

Errors are mapped to HTTP in this one place: an :class:`~imghash.ImghashError`
carries its status and code; FastAPI's 422 becomes a 400 ``invalid_request``;
unknown routes and methods give 404 / 405; anything else a 500 that says
nothing internal.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from .._errors import ImghashError
from .._settings import Settings
from ._docs import document, new_app
from ._envelope import UNAUTHORIZED, error_response, internal_error_message, request_id_of
from ._warm import warm

__all__ = ["CORS_HEADERS", "ROUTES", "create_app"]

#: Route groups an app can mount, by name, with the module holding each router.
ROUTES = {
    "hash": "._hash",
    "batch": "._batch",
    "compare": "._compare",
    "meta": "._meta",
    "search": "._search",
}

#: Request headers a browser may send across origins (template.yaml's Cors allows the same).
CORS_HEADERS = ("content-type", "x-api-key")

log = logging.getLogger("imghash.access")

_STATUS_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_image",
    429: "rate_limited",
}


def _request_id(request: Request) -> str:
    return getattr(request.state, "request_id", None) or request_id_of(request.scope)


async def _imghash_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ImghashError)  # registered for this class only
    request.state.error_code = exc.code
    return error_response(_request_id(request), exc.http_status, exc.code, exc.message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    message = "invalid parameter " + "; ".join(problems)
    request.state.error_code = "invalid_request"
    return error_response(_request_id(request), 400, "invalid_request", message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _STATUS_CODES.get(
        exc.status_code, "internal_error" if exc.status_code >= 500 else "invalid_request"
    )
    messages = {
        404: f"no route {request.url.path}; see /docs",
        405: f"{request.method} is not allowed on {request.url.path}",
    }
    message = messages.get(exc.status_code, str(exc.detail))
    request.state.error_code = code
    response = error_response(_request_id(request), exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        response.headers["allow"] = _allowed_methods(request)
    return response


def _allowed_methods(request: Request) -> str:
    """Every method some route takes on this path: GET and POST live in separate routes,
    and Starlette's 405 names only the first route's."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.routes):
            allowed.append(method)
    return ", ".join(allowed)


class _Access:
    """Pure ASGI middleware: request id, API keys, a 500 envelope for bugs, one log line."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            if self._key_missing(scope):
                state["error_code"] = "unauthorized"
                response = error_response(request_id, 401, "unauthorized", UNAUTHORIZED)
                await response(scope, receive, sending)
            else:
                await self.app(scope, receive, sending)
        except ClientDisconnect:
            # The client went away mid-body (or the local server closed a client too slow
            # to send it): nobody to answer, and no bug. Logged as 499, or as the
            # server's own status when it was the one to close.
            status = int(state.get("closed_status", 499))
            state.setdefault("error_code", "client_disconnected")
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            state["error_code"] = "internal_error"
            response = error_response(
                request_id, 500, "internal_error", internal_error_message(request_id)
            )
            await response(scope, receive, sending)
        finally:
            self._log(scope, state, status, started)

    def _key_missing(self, scope: Scope) -> bool:
        if not self.settings.api_keys or not scope["path"].startswith("/v1/"):
            return False
        headers = dict(scope.get("headers", ()))
        key = headers.get(b"x-api-key", b"").decode("latin-1")
        return key not in self.settings.api_keys

    @staticmethod
    def _log(scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
        headers = dict(scope.get("headers", ()))
        route = scope.get("route")
        line = {
            "request_id": state.get("request_id"),
            "method": scope.get("method"),
            "route": getattr(route, "path", None) or scope.get("path"),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "bytes_in": int(headers.get(b"content-length", b"0") or 0),
            "algorithm": state.get("algorithm"),
            "profile": state.get("profile"),
            "error": state.get("error_code"),
        }
        log.info(json.dumps(line))


def _quiet_logger() -> None:
    """Access lines go to stdout as bare JSON, unless the host configured logging."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def create_app(
    routes: Sequence[str] = tuple(ROUTES),
    *,
    settings: Settings | None = None,
    fetcher: Any = None,
    search: Any = None,
    docs: bool = True,
) -> FastAPI:
    """A FastAPI app serving ``routes`` (any of ``hash``, ``batch``, ``compare``, ``meta``,
    ``search``).

    ``settings`` default to the environment's; ``fetcher`` (an ``imghash``
    Fetcher) is built on first use unless given, as tests do. ``docs`` serves
    ``/docs`` and ``/openapi.json``; a Lambda function, which API Gateway reaches
    on its own route only, is built without them.
    """
    unknown = [name for name in routes if name not in ROUTES]
    if unknown:
        raise ValueError(f"unknown routes {unknown}; choose from {list(ROUTES)}")
    settings = settings or Settings.from_environ()
    app = new_app(
        docs=docs,
        title="imghash: Perceptual Image Hash API",
        version=__version__,
        description="aHash, dHash and pHash of images, and comparisons. Every answer uses the "
        "envelope `{data, meta, status, message, success}`; errors add "
        "`error: {code, message}`.",
    )
    app.state.settings = settings
    app.state.fetcher = fetcher
    app.state.search = search
    for name in routes:
        module = importlib.import_module(ROUTES[name], __package__)
        app.include_router(module.router)
    if {"hash", "batch", "compare", "search"} & set(routes):
        # Load and build what hashing needs now, during a Lambda's init phase (and into its
        # SnapStart snapshot), rather than on the first request.
        warm(settings)
    app.add_exception_handler(ImghashError, _imghash_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(_Access, settings=settings)
    if settings.cors_origin:
        # Outside the key check: a browser's preflight carries no key, and a 401 needs
        # the header as much as an answer does.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[settings.cors_origin],
            allow_methods=["GET", "POST"],
            allow_headers=list(CORS_HEADERS),
            expose_headers=["x-request-id"],
            max_age=600,
        )
    app.openapi = lambda: document(app, settings)  # type: ignore[method-assign]
    _quiet_logger()
    return app
