"""The OpenAPI document and /docs, in process: what the page shows is what the app does.

Options come from the registries; optional form fields are never pre-filled with a
placeholder; every example is checked against the request it describes; the page's
assets are the app's own (the browser test, tests/browser, drives the page itself).
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from imghash import Settings
from imghash._algorithms import ALGORITHMS
from imghash._profiles import DEFAULT_PROFILE, PROFILES
from imghash.index import MemoryStore, SearchService
from imghash.web import create_app
from imghash.web._app import _STATUS_CODES
from imghash.web._docs import ERROR_EXAMPLES, EXAMPLE_URL, SEED_HASHES
from imghash.web._envelope import (
    BatchEnvelope,
    CompareEnvelope,
    ErrorEnvelope,
    HashEnvelope,
    MetaEnvelope,
    SearchEnvelope,
)
from tests.servers import send_bytes, upstream

ROOT = Path(__file__).resolve().parents[2]
KEYS = Settings(api_keys=frozenset({"k-123"}))
MODELS = {
    "/v1/hash": HashEnvelope,
    "/v1/hash/batch": BatchEnvelope,
    "/v1/compare": CompareEnvelope,
    "/v1/meta": MetaEnvelope,
    "/v1/search": SearchEnvelope,
}


def call(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = create_app(settings=Settings()).openapi()
    return document


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def option_schemas(operation: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    """Every place an operation declares option ``name``: query, multipart, JSON."""
    found = [("query", p["schema"]) for p in operation.get("parameters", []) if p["name"] == name]
    for kind, media in operation.get("requestBody", {}).get("content", {}).items():
        properties = media.get("schema", {}).get("properties", {})
        if name in properties:
            found.append((kind, properties[name]))
    return found


# --- options from the registries --------------------------------------------------------


HASHING = [
    ("/v1/hash", "get"),
    ("/v1/hash", "post"),
    ("/v1/compare", "get"),
    ("/v1/compare", "post"),
]


@pytest.mark.parametrize(("path", "method"), HASHING)
def test_algorithm_and_profile_are_enums_from_the_registries(
    spec: dict[str, Any], path: str, method: str
) -> None:
    operation = spec["paths"][path][method]
    algorithms = option_schemas(operation, "algorithm")
    profiles = option_schemas(operation, "profile")
    expected_places = (
        ["query"] if method == "get" else ["query", "multipart/form-data", "application/json"]
    )
    assert [where for where, _ in algorithms] == expected_places
    assert [where for where, _ in profiles] == expected_places
    for where, schema in algorithms:
        one, listed = schema["anyOf"]
        assert one["enum"] == ["all", *ALGORITHMS]
        pattern = re.compile(listed["pattern"])
        names = list(ALGORITHMS)
        assert pattern.fullmatch(",".join(names))
        assert pattern.fullmatch(f"{names[-1]},{names[0]}")
        for wrong in ("string", "xhash", f"{names[0]},", ""):
            assert not pattern.fullmatch(wrong), wrong
        # The query of a POST shows no default: it would win over the body's choice.
        assert schema.get("default") == (None if (where, method) == ("query", "post") else "all")
    for where, schema in profiles:
        assert schema["enum"] == list(PROFILES)
        default = None if (where, method) == ("query", "post") else DEFAULT_PROFILE
        assert schema.get("default") == default


def test_no_optional_form_field_is_prefilled_with_a_placeholder(spec: dict[str, Any]) -> None:
    """Swagger UI fills an optional form field that has neither a default nor an example
    with a sample ("string", 0, the maximum) and sends it: each must have one."""
    checked = 0
    for path, method, operation in operations(spec):
        media = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
        if media is None:
            continue
        schema = media["schema"]
        for name, field in schema["properties"].items():
            if name in schema.get("required", []) or field.get("format") == "binary":
                continue
            checked += 1
            assert "default" in field or "example" in field, (path, method, name)
    assert checked >= 10


def test_empty_optional_fields_are_not_given(make_image: Any) -> None:
    """What the page sends for a field left empty ("Send empty value") is the default."""
    app = create_app(settings=Settings())
    image = make_image()
    one = call(
        app,
        "POST",
        "/v1/hash",
        files={"image": ("a.png", image)},
        data={"algorithm": "", "profile": "", "fast": ""},
    )
    assert one.status_code == 200, one.text
    two = call(
        app,
        "POST",
        "/v1/compare",
        files={"image1": ("a.png", image), "image2": ("b.png", image)},
        data={"url1": "", "url2": "", "algorithm": "", "profile": ""},
    )
    assert two.status_code == 200, two.text
    assert one.json()["data"] == two.json()["data"]["hashes"]["image1"]
    query = call(app, "POST", "/v1/hash?algorithm=&profile=&fast=", content=image)
    assert query.json()["data"] == one.json()["data"]


# --- examples: real answers, checked against the requests they describe -----------------


def test_every_answer_has_an_example_of_its_model(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        media = operation["responses"]["200"]["content"]["application/json"]
        MODELS[path].model_validate(media["example"])
        assert "additionalProp" not in json.dumps(media["example"]), (path, method)


def test_error_examples_carry_their_status_code(spec: dict[str, Any]) -> None:
    codes = {
        **_STATUS_CODES,
        500: {"internal_error"},
        502: {"upstream_error"},
        503: {"index_not_found", "index_corrupt"},
        504: {"upstream_timeout"},
    }
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status == "200":
                continue
            examples = response["content"]["application/json"]["examples"]
            assert examples, (path, method, status)
            for example in examples.values():
                body = example["value"]
                ErrorEnvelope.model_validate(body)
                assert body["data"] is None  # FastAPI drops nulls from examples; kept here
                code = body["error"]["code"]
                allowed = codes[int(status)]
                allowed = {allowed} if isinstance(allowed, str) else allowed
                allowed |= {"url_not_allowed"} if status == "400" else set()
                assert code in allowed, (path, method, status, code)
                assert example["summary"] == code


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


class BrokenFetcher:
    def fetch(self, url: str) -> bytes:
        raise RuntimeError("a bug")


def _answer(status: int, name: str) -> httpx.Response:
    """The real answer to the request that ERROR_EXAMPLES[status][name] describes."""
    plain = create_app(settings=Settings())
    if (status, name) == (400, "unknown algorithm"):
        return call(plain, "GET", "/v1/hash", params={"image": "AAAA", "algorithm": "xhash"})
    if (status, name) == (400, "private address"):
        return call(plain, "GET", "/v1/hash", params={"url": "http://127.0.0.1/photo.jpg"})
    if status == 401:
        return call(create_app(["meta"], settings=KEYS), "GET", "/v1/meta")
    if status == 413:
        return call(plain, "POST", "/v1/hash", content=_png_header(10000, 6000))
    if status == 415:  # curl --data-binary @page.html: the form type, and not a form
        form = {"content-type": "application/x-www-form-urlencoded"}
        return call(plain, "POST", "/v1/hash", content=b"<!doctype html><p>", headers=form)
    if status == 500:
        broken = create_app(settings=Settings(), fetcher=BrokenFetcher())
        return call(broken, "GET", "/v1/hash", params={"url": "https://example.com/a.jpg"})
    if status == 502:
        allowed = create_app(settings=Settings(allow_private_urls=True))
        with upstream({"/gone": send_bytes(b"not here", "text/html", status=404)}) as up:
            return call(allowed, "GET", "/v1/hash", params={"url": up + "/gone"})
    if status == 503:  # a search before any index was built, where the example says
        missing = Settings(db_path="/home/me/.local/share/imghash/index.db")
        search = create_app(["search"], settings=missing)
        return call(search, "GET", "/v1/search?hash=4edbd88c49eaf808")
    raise LookupError(f"no request for ERROR_EXAMPLES[{status}][{name!r}]")


# 429 is the gateway's own answer (tests/sam compares it with template.yaml); a 504 needs
# a server that takes 3 s not to answer, so its example is checked for its code only.
CHECKED_ELSEWHERE = {429, 504}


@pytest.mark.parametrize(
    ("status", "name"),
    [(s, n) for s, named in ERROR_EXAMPLES.items() if s not in CHECKED_ELSEWHERE for n in named],
)
def test_error_examples_are_what_the_app_answers(status: int, name: str) -> None:
    code, message = ERROR_EXAMPLES[status][name]
    response = _answer(status, name)
    body = response.json()
    assert (response.status_code, body["error"]["code"]) == (status, code), response.text
    request_id = body["meta"]["request_id"]
    assert body["error"]["message"].replace(request_id, "<id>") == message.replace(
        "63dd58de-3f23-4e04-83bd-8fc695338515", "<id>"
    )


def _example_data(spec: dict[str, Any], path: str, method: str) -> Any:
    media = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    return media["example"]["data"]


def test_hash_and_compare_examples_are_the_seed_answers(spec: dict[str, Any], corpus: Path) -> None:
    seed = (corpus / "photos" / "DSCN0010.jpg").read_bytes()
    app = create_app(settings=Settings())
    hashed = call(app, "POST", "/v1/hash", content=seed).json()["data"]
    assert hashed == SEED_HASHES
    for method in ("get", "post"):
        assert _example_data(spec, "/v1/hash", method) == hashed
    files = {"image1": ("a.jpg", seed), "image2": ("b.jpg", seed)}
    compared = call(app, "POST", "/v1/compare", files=files).json()["data"]
    for method in ("get", "post"):
        assert _example_data(spec, "/v1/compare", method) == compared


class ExampleFetcher:
    """The seed's photo at EXAMPLE_URL (no network needed); any other URL as the service
    fetches it."""

    def __init__(self, seed: bytes) -> None:
        from imghash._fetch import Fetcher

        self.seed, self.real = seed, Fetcher(Settings())

    def fetch(self, url: str, *, timeout: float | None = None) -> bytes:
        return self.seed if url == EXAMPLE_URL else self.real.fetch(url, timeout=timeout)


def test_batch_example_is_the_answer_to_the_example_request(
    spec: dict[str, Any], corpus: Path
) -> None:
    from imghash.web._batch import EXAMPLE_REQUEST

    operation = spec["paths"]["/v1/hash/batch"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["example"]
    assert request == EXAMPLE_REQUEST
    seed = (corpus / "photos" / "DSCN0010.jpg").read_bytes()
    app = create_app(settings=Settings(), fetcher=ExampleFetcher(seed))
    answered = call(app, "POST", "/v1/hash/batch", json=request).json()["data"]
    assert _example_data(spec, "/v1/hash/batch", "post") == answered  # nulls and all


def test_meta_example_is_a_default_local_answer(spec: dict[str, Any]) -> None:
    answer = call(create_app(["meta"], settings=Settings()), "GET", "/v1/meta").json()["data"]
    assert _example_data(spec, "/v1/meta", "get") == answer


def test_search_example_has_the_shape_of_an_answer(spec: dict[str, Any]) -> None:
    app = create_app(settings=Settings(), search=SearchService(MemoryStore()))
    answer = call(app, "GET", "/v1/search", params={"hash": SEED_HASHES["phash"]}).json()["data"]
    for method in ("get", "post"):
        example = _example_data(spec, "/v1/search", method)
        assert set(example) == set(answer)
        assert example["query"] == answer["query"]


# --- the key, the page, the functions ---------------------------------------------------


def test_the_key_scheme_is_declared_and_required_when_keys_are_set(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "x-api-key")
    assert spec["security"] == [{"ApiKey": []}, {}]  # optional: no keys configured
    assert create_app(settings=KEYS).openapi()["security"] == [{"ApiKey": []}]


def test_the_page_loads_nothing_from_elsewhere() -> None:
    app = create_app(["meta"], settings=Settings())
    page = call(app, "GET", "/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets, page.text
    assert all(a.startswith("/docs/assets/") for a in assets), assets
    assert not re.search(r"https?:|//[a-z]", page.text), page.text
    for asset in assets:
        served = call(app, "GET", asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 500, asset


def test_functions_serve_no_docs_and_never_load_the_page_assets() -> None:
    """API Gateway routes only the API's paths to a function: docs there would be dead weight."""
    for name in ("hash", "batch", "compare", "meta", "search"):
        app = create_app([name], settings=Settings(), docs=False)
        assert call(app, "GET", "/docs").status_code == 404
        assert call(app, "GET", "/openapi.json").status_code == 404
    code = (
        "import importlib.util, sys\n"
        f"for name in ('hash', 'batch', 'compare', 'meta', 'search'):\n"
        f"    path = {str(ROOT / 'functions')!r} + '/' + name + '/app.py'\n"
        "    spec = importlib.util.spec_from_file_location(name, path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "assert 'fastapi_offline' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
