"""The app factory's error mapping, in process: a bug is a 500 envelope that says nothing inside."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from imghash import Settings
from imghash.web import create_app


class BrokenFetcher:
    def fetch(self, url: str) -> bytes:
        raise RuntimeError("database password is hunter2")


async def get(app: object, path: str, **params: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, params=params)


def test_a_bug_is_an_opaque_500(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(settings=Settings(), fetcher=BrokenFetcher())
    response = asyncio.run(get(app, "/v1/hash", url="https://example.com/a.jpg"))
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert body["meta"]["request_id"] in body["error"]["message"]
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


def test_only_the_named_routes_are_mounted() -> None:
    app = create_app(["meta"], settings=Settings())
    assert asyncio.run(get(app, "/v1/meta")).status_code == 200
    assert asyncio.run(get(app, "/v1/hash")).status_code == 404
    with pytest.raises(ValueError, match="unknown routes"):
        create_app(["search-everything"])
