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
    if isinstance(fields, dict):
        return {
            k: (REFUSED if k in URL_FIELDS and v not in (None, "") else v)
            for k, v in fields.items()
        }
    return fields


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """Every phase's cases, the document's own examples included, just before sending."""
    case.query = _refused(case.query)
    case.body = _refused(case.body)
