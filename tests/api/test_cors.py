"""CORS, in process: the origin the template passes (IMGHASH_CORS_ORIGIN) on every answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from imghash import Settings
from imghash.web import create_app

ORIGIN = "https://app.example.com"


def call(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def test_the_origin_is_read_from_the_environment() -> None:
    assert Settings.from_environ({"IMGHASH_CORS_ORIGIN": f" {ORIGIN} "}).cors_origin == ORIGIN
    assert Settings.from_environ({}).cors_origin == ""


def test_answers_errors_and_preflights_carry_the_origin() -> None:
    settings = Settings(cors_origin=ORIGIN, api_keys=frozenset({"k1"}))
    app = create_app(["meta"], settings=settings, docs=False)
    asked = {"origin": ORIGIN}
    answer = call(app, "GET", "/v1/meta", headers={**asked, "x-api-key": "k1"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in answer.headers["access-control-expose-headers"]
    refused = call(app, "GET", "/v1/meta", headers=asked)  # no key: a 401, readable by the page
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ORIGIN
    preflight = {
        **asked,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-api-key",
    }
    allowed = call(app, "OPTIONS", "/v1/meta", headers=preflight)  # a preflight has no key
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert {"content-type", "x-api-key"} <= set(
        allowed.headers["access-control-allow-headers"].lower().replace(" ", "").split(",")
    )


def test_no_origin_set_means_no_cors_headers() -> None:
    app = create_app(["meta"], settings=Settings(), docs=False)
    answer = call(app, "GET", "/v1/meta", headers={"origin": ORIGIN})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
