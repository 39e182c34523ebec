"""The local server (``make serve``): uvicorn, with limits against slow, lying and greedy
clients, every refusal in the envelope.

In AWS, API Gateway stands in front and sets its own limits; locally nothing does, so:

- the request line and headers are held to ``max_header_bytes`` and ``max_headers``
  (431) and the target to ``max_url_bytes`` (414), counted as the bytes arrive, before
  the parser buffers them;
- a request's headers must arrive within ``header_timeout`` of its first byte (or of the
  connection's opening), and its body within ``body_timeout`` of its headers: else 408
  and the connection is closed (a slowloris, or a client that sends less than its
  Content-Length);
- an idle keep-alive connection is closed after ``keep_alive`` seconds;
- a server process handles at most ``max_concurrency`` requests at once and holds at
  most ``max_inflight_bytes`` of request bodies (Content-Length is reserved before a
  byte of the body is read; a body without one is counted as it streams): else 503
  ``overloaded``;
- what the HTTP parser cannot read (a body longer than its Content-Length runs into the
  next request) gets a 400 envelope instead of uvicorn's plain text, and the connection
  is closed.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import httptools
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .._errors import Overloaded
from .._settings import Settings, get_settings
from ._envelope import error_response

__all__ = [
    "Admission",
    "LimitedProtocol",
    "create_server_app",
    "limited_protocol",
    "with_admission",
]

log = logging.getLogger("imghash.access")

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 414: b"URI Too Long"}
_REASONS |= {431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}


class _Refused(Exception):
    """Raised from a parser callback to stop reading a request, with the answer to give."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _raw_error(status: int, code: str, message: str, request_id: str) -> bytes:
    """An error envelope as the bytes of a whole HTTP/1.1 response that closes."""
    response = error_response(request_id, status, code, message)
    head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Error"))]
    head += [name + b": " + value + b"\r\n" for name, value in response.raw_headers]
    head += [b"x-request-id: " + request_id.encode() + b"\r\n", b"connection: close\r\n\r\n"]
    return b"".join(head) + bytes(response.body)


class LimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header, URL and time limits (see the module)."""

    #: The limits; None reads them from the environment (a worker process of ``--workers``).
    bound: Settings | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = self.bound or get_settings()
        self._in_head = True
        self._line_done = False  # the request line has ended
        self._line_bytes = 0
        self._head_bytes = 0
        self._tail = b""
        self._head_timer: Any = None
        self._body_timer: Any = None
        self._pending: tuple[int, str, str] | None = None

    # The connection
    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._in_head:
            if self._head_timer is None:
                self._arm_head_timer()
            # Only the bytes up to the blank line that ends the headers are the head's.
            end = (self._tail + data).find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
            self._tail = (self._tail + data)[-3:]
            if not self._line_done:  # the request line: method, target, version
                newline = data.find(b"\n")
                self._line_bytes += len(data) if newline < 0 else newline
                self._line_done = newline >= 0
            if self._line_bytes > self.settings.max_url_bytes:
                limit = self.settings.max_url_bytes
                self._refuse(414, "too_large", f"the request's URL is over {limit:,} bytes")
                return
            limit = self.settings.max_header_bytes
            if self._head_bytes > limit:
                self._refuse(431, "too_large", f"the request's headers are over {limit:,} bytes")
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()
        except httptools.HttpParserError as err:
            refused = err.__context__
            if isinstance(refused, _Refused):
                self._refuse(refused.status, refused.code, refused.message)
            else:
                self._refuse(400, "invalid_request", "the request is not valid HTTP/1.1")

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "invalid_request", "the request is not valid HTTP/1.1")

    # The parser's callbacks
    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.settings.max_url_bytes:
            limit = self.settings.max_url_bytes
            raise _Refused(414, "too_large", f"the request's URL is over {limit:,} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        if len(self.headers) > self.settings.max_headers:
            limit = self.settings.max_headers
            raise _Refused(431, "too_large", f"the request has more than {limit} header lines")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_timers()
        self._body_timer = self.loop.call_later(
            self.settings.body_timeout,
            self._timed_out,
            f"the request body did not arrive within {self.settings.body_timeout:g} s",
        )
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._pending is not None:
            status, code, message = self._pending
            self._pending = None
            self._refuse(status, code, message)

    def on_message_complete(self) -> None:
        self._cancel_timers()
        self._in_head, self._line_done, self._tail = True, False, b""
        self._head_bytes = self._line_bytes = 0
        super().on_message_complete()

    # Refusing
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(
            self.settings.header_timeout,
            self._timed_out,
            f"the request's headers did not arrive within {self.settings.header_timeout:g} s",
        )

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    def _timed_out(self, message: str) -> None:
        self._head_timer = self._body_timer = None
        self._refuse(408, "request_timeout", message)

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer with the envelope where no response has begun, then close."""
        self._cancel_timers()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        busy = cycle is not None and not cycle.response_complete
        if busy and not cycle.more_body and not cycle.response_started:
            # The request before the bad bytes is whole and being answered: answer it,
            # then refuse (on_response_complete); read nothing more meanwhile.
            self._pending = (status, code, message)
            self.flow.pause_reading()
            return
        if busy and cycle.response_started:
            self.transport.close()  # a response is on its way: no room for another
            return
        request_id = str(uuid.uuid4())
        if busy:
            # The app is waiting for the body: it will see the client gone; its log line
            # says what really happened.
            state = cycle.scope.setdefault("state", {})
            state.update(closed_status=status, error_code=code)
            request_id = str(state.get("request_id", request_id))
        else:
            _log(request_id, status, code, self._head_bytes)
        self.transport.write(_raw_error(status, code, message, request_id))
        self.transport.close()


def _log(request_id: str, status: int, code: str, head_bytes: int) -> None:
    """The access line of a request refused before it reached the app."""
    line = {
        "request_id": request_id,
        "method": None,
        "route": None,
        "status": status,
        "duration_ms": None,
        "bytes_in": head_bytes,
        "algorithm": None,
        "profile": None,
        "error": code,
    }
    log.info(json.dumps(line))


def limited_protocol(settings: Settings) -> type[LimitedProtocol]:
    """The protocol class uvicorn is given (``Config(http=...)``), bound to ``settings``."""
    return type("LimitedProtocol", (LimitedProtocol,), {"bound": settings})


class Admission:
    """ASGI middleware: at most ``max_concurrency`` requests and ``max_inflight_bytes`` of
    request bodies at once, per server process; 503 ``overloaded`` past either."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.active = 0
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        declared = headers.get(b"content-length", b"")
        reserved = int(declared) if declared.isdigit() else 0
        refusal = self._refusal(reserved)
        if refusal:
            state = scope.setdefault("state", {})
            state["error_code"] = "overloaded"
            request_id = str(state.get("request_id") or uuid.uuid4())
            response = error_response(request_id, 503, "overloaded", refusal)
            response.headers["retry-after"] = "1"
            await response(scope, receive, send)
            return
        self.active += 1
        self.inflight += reserved
        counted, received = reserved, 0

        async def receiving() -> Message:
            nonlocal counted, received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > counted:  # no Content-Length (chunked): counted as it comes
                    self.inflight += received - counted
                    counted = received
                    if self.inflight > self.settings.max_inflight_bytes and counted < self.inflight:
                        raise Overloaded(self._bytes_message())
            return message

        try:
            await self.app(scope, receiving, send)
        finally:
            self.active -= 1
            self.inflight -= counted

    def _refusal(self, reserved: int) -> str | None:
        limit = self.settings.max_concurrency
        if self.active >= limit:
            return f"the server is handling {limit} requests, its limit; retry shortly"
        busy = self.inflight > 0
        if busy and self.inflight + reserved > self.settings.max_inflight_bytes:
            return self._bytes_message()
        return None

    def _bytes_message(self) -> str:
        return (
            f"the server holds {self.settings.max_inflight_bytes:,} bytes of request "
            "bodies at most, and is at that limit; retry shortly"
        )


def with_admission(app: Any, settings: Settings) -> Any:
    """``app`` (a Starlette app) with :class:`Admission` inside its access middleware,
    so refusals carry the request id and get their log line."""
    app.user_middleware.append(Middleware(Admission, settings=settings))
    return app


def create_server_app() -> Any:
    """The app of one worker process of ``--workers`` (uvicorn's factory)."""
    from ._app import create_app

    settings = get_settings()
    return with_admission(create_app(settings=settings), settings)
