"""The one error root of imghash and its subclasses, each carrying a stable code.

Every failure a caller can cause is an :class:`ImghashError`. The code is the
machine-readable part (DESIGN §5); the HTTP status lives next to it so that
the API layer maps errors in one place without matching on message text.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "FetchBlocked",
    "ImageTooLarge",
    "ImghashError",
    "IndexCorrupt",
    "IndexMissing",
    "IndexUnavailable",
    "InvalidRequest",
    "Overloaded",
    "RequestTimeout",
    "UnsupportedImage",
    "UpstreamError",
    "UpstreamTimeout",
]


class ImghashError(Exception):
    """Root of every error imghash raises on purpose."""

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The ``{"code", "message"}`` object used by the API and the CLI."""
        return {"code": self.code, "message": self.message}


class InvalidRequest(ImghashError):
    """Missing, conflicting or malformed parameters (unknown algorithm, bad base64...)."""

    code = "invalid_request"
    http_status = 400


class FetchBlocked(ImghashError):
    """A URL whose scheme, port or resolved address is not allowed (DESIGN §6)."""

    code = "url_not_allowed"
    http_status = 400


class ImageTooLarge(ImghashError):
    """Bytes, pixels or frames over the configured limits."""

    code = "too_large"
    http_status = 413


class UnsupportedImage(ImghashError):
    """Not an image, an unsupported format, or bytes that do not decode."""

    code = "unsupported_image"
    http_status = 415


class UpstreamError(ImghashError):
    """The server behind a URL failed, answered non-2xx, or sent too much."""

    code = "upstream_error"
    http_status = 502


class UpstreamTimeout(ImghashError):
    """The server behind a URL did not answer in time."""

    code = "upstream_timeout"
    http_status = 504


class RequestTimeout(ImghashError):
    """The client was too slow sending its request (the local server's timeouts)."""

    code = "request_timeout"
    http_status = 408


class Overloaded(ImghashError):
    """The local server is at its limit of requests, or of request bytes, at once."""

    code = "overloaded"
    http_status = 503


class IndexMissing(ImghashError):
    """A search was asked of an index that does not exist (it is never created empty)."""

    code = "index_not_found"
    http_status = 503


class IndexCorrupt(ImghashError):
    """The index file is damaged or is not an index; the fix is to build it again."""

    code = "index_corrupt"
    http_status = 503


class IndexUnavailable(ImghashError):
    """The index's database cannot be reached or failed (PostgreSQL down, a bad URL)."""

    code = "index_unavailable"
    http_status = 503
