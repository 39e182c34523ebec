"""Schemathesis hooks for ``test_schemathesis.py``: every URL the fuzzer makes up is pointed
at an address the server refuses (loopback, with private addresses not allowed), so the
run never fetches anything, whatever the generated value."""

from __future__ import annotations

from typing import Any

import schemathesis

#: Loopback, port 9 (discard): refused by the fetcher's address check before any connection.
REFUSED = "http://127.0.0.1:9/image.png"
URL_FIELDS = ("url", "url1", "url2")


def _refused(fields: Any) -> Any:
    """``fields`` with every URL replaced, however deep: a batch's items hold URLs, in a
    list of its own or in a multipart list of ``url`` fields."""
    if isinstance(fields, dict):
        return {k: (_url(v) if k in URL_FIELDS else _refused(v)) for k, v in fields.items()}
    if isinstance(fields, list):
        return [_refused(v) for v in fields]
    return fields


def _url(value: Any) -> Any:
    if isinstance(value, list):
        return [_url(v) for v in value]
    return REFUSED if value not in (None, "") else value


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """Every phase's cases, the document's own examples included, just before sending."""
    case.query = _refused(case.query)
    case.body = _refused(case.body)
