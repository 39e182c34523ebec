"""``POST /v1/hash/batch`` through a real uvicorn server and a real HTTP client: every
source kind, each item's answer as ``/v1/hash`` gives it, the batch's own limits and
budgets, and what fails the batch as a whole."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

import imghash
from imghash import Settings
from imghash.web._batch_inputs import MAX_ITEMS
from imghash.web._batch_run import FETCHES_AT_ONCE
from tests.api.test_http_api import error, ok
from tests.helpers import encode, photo_like
from tests.servers import api_server, send_bytes, upstream

SEED = {"ahash": "fcfffff310100000", "dhash": "313c156666e4e584", "phash": "4edbd88c49eaf808"}
#: Small limits, so that a test reaches them with small bodies.
ENV = {
    "IMGHASH_ALLOW_PRIVATE_URLS": "1",  # only so that a local upstream can serve test images
    "IMGHASH_MAX_BYTES": "300000",
    "IMGHASH_MAX_BATCH_BYTES": "1000000",
}
BATCH = "/v1/hash/batch"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    with api_server(ENV) as found:
        yield found


@pytest.fixture(scope="module")
def base(server: tuple[str, list[str]]) -> str:
    return server[0]


@pytest.fixture(scope="module")
def seed_bytes(corpus: Path) -> bytes:
    return (corpus / "photos" / "DSCN0010.jpg").read_bytes()


@pytest.fixture(scope="module")
def site(seed_bytes: bytes) -> Iterator[str]:
    """A local upstream: the seed photo, a missing page and an HTML page."""
    routes = {
        "/DSCN0010.jpg": send_bytes(seed_bytes),
        "/gone": send_bytes(b"secret page", "text/html", status=404),
        "/page.html": send_bytes(b"<!doctype html><p>hello</p>", "text/html"),
    }
    with upstream(routes) as url:
        yield url


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def results(response: httpx.Response) -> list[dict[str, Any]]:
    data = ok(response)
    found: list[dict[str, Any]] = data["results"]  # type: ignore[assignment]
    assert [r["index"] for r in found] == list(range(len(found)))
    assert data["count"] == len(found)
    assert data["failed"] == sum(1 for r in found if "error" in r)
    assert data["hashed"] == sum(1 for r in found if "data" in r)
    for r in found:
        assert ("data" in r) != ("error" in r), r
    return found


# --- every source kind, and the options -------------------------------------------------


def test_every_source_kind_gives_the_seed_hashes(base: str, site: str, seed_bytes: bytes) -> None:
    items = [
        {"url": site + "/DSCN0010.jpg", "id": "by-url"},
        {"image": b64(seed_bytes), "id": 2},
        {"image": "data:image/jpeg;base64," + b64(seed_bytes)},
    ]
    found = results(httpx.post(base + BATCH, json={"items": items}))
    assert found == [
        {"index": 0, "id": "by-url", "data": SEED},
        {"index": 1, "id": 2, "data": SEED},
        {"index": 2, "data": SEED},
    ]


def test_options_in_the_body_or_the_query_as_for_v1_hash(base: str, seed_bytes: bytes) -> None:
    item = {"image": b64(seed_bytes)}
    expected = imghash.hash_image(seed_bytes, algorithms="dhash,phash", profile="imagehash")
    in_body = {"items": [item], "algorithm": "dhash,phash", "profile": "imagehash"}
    [one] = results(httpx.post(base + BATCH, json=in_body))
    assert one["data"] == expected.hex()
    # A bare list takes its options from the query; a field in both must agree.
    query = {"algorithm": "dhash,phash", "profile": "imagehash", "fast": "true"}
    [two] = results(httpx.post(base + BATCH, params=query, json=[item]))
    single = ok(httpx.post(base + "/v1/hash", params=query, content=seed_bytes))
    assert two["data"] == single
    agreeing = {"items": [item], "algorithm": "dhash,phash"}
    [three] = results(httpx.post(base + BATCH, params={"algorithm": "dhash,phash"}, json=agreeing))
    assert three["data"] == {k: v for k, v in SEED.items() if k in ("dhash", "phash")}
    message = error(
        httpx.post(base + BATCH, params={"algorithm": "ahash"}, json=agreeing),
        400,
        "invalid_request",
    )
    assert message.startswith("algorithm is given twice")


def test_signals_are_given_per_item_as_v1_hash_gives_them(base: str) -> None:
    from PIL import Image

    flat = encode(Image.new("RGB", (64, 48), (90, 90, 90)), "PNG")
    photo = encode(photo_like(), "PNG")
    found = results(httpx.post(base + BATCH, json=[{"image": b64(flat)}, {"image": b64(photo)}]))
    assert found[0]["data"] == ok(httpx.post(base + "/v1/hash", content=flat))
    assert found[0]["data"]["low_information"] is True
    assert found[1]["data"] == ok(httpx.post(base + "/v1/hash", content=photo))
    assert "low_information" not in found[1]["data"]


def test_multipart_batch_of_files_urls_and_base64(base: str, site: str, seed_bytes: bytes) -> None:
    other = encode(photo_like(seed=4), "PNG")
    parts = [
        ("image", ("one.jpg", seed_bytes, "image/jpeg")),
        ("file", ("two.png", other, "image/png")),
        ("url", (None, site + "/DSCN0010.jpg")),
        ("image", (None, b64(other))),
        ("image", ("three.jpg", seed_bytes, "image/jpeg")),
        ("url", (None, "")),  # a form's field left empty: not an item
        ("algorithm", (None, "phash")),
    ]
    found = results(httpx.post(base + BATCH, files=parts))
    phash = {"phash": SEED["phash"]}
    other_phash = imghash.hash_image(other, algorithms="phash").hex()
    assert found == [
        {"index": 0, "id": "one.jpg", "data": phash},
        {"index": 1, "id": "two.png", "data": other_phash},
        {"index": 2, "data": phash},
        {"index": 3, "data": other_phash},
        {"index": 4, "id": "three.jpg", "data": phash},
    ]


# --- each item's error is what /v1/hash answers for it ----------------------------------


def _png_header(width: int, height: int) -> bytes:
    from tests.api.test_docs import _png_header as header

    return header(width, height)


def test_each_bad_item_gets_what_v1_hash_answers_and_fails_alone(
    base: str, site: str, seed_bytes: bytes
) -> None:
    bad = [
        {"image": "not*base64!"},
        {"image": b64(b"<!doctype html><p>")},
        {"image": b64(b"%PDF-1.4\n%\xe2\xe3")},
        {"image": b64(_png_header(10000, 6000))},  # too many pixels, from the header
        {"image": b64(b"\x89PNG\r\n\x1a\n" + b"\0" * 300_001)},  # too many bytes
        {"image": "data:image/png,abc"},
        {"url": "ftp://example.com/a.png"},
        {"url": site + "/gone"},
        {"url": site + "/page.html"},
        {"url": "http://a/x.png", "image": "AAAA"},
    ]
    good = {"image": b64(seed_bytes), "id": "good"}
    found = results(httpx.post(base + BATCH, json={"items": [*bad, good]}))
    assert found[-1] == {"index": len(bad), "id": "good", "data": SEED}
    for item, result in zip(bad, found, strict=False):
        alone = httpx.post(base + "/v1/hash", json=item)
        assert alone.status_code >= 400, item
        assert result["error"] == alone.json()["error"], item
    assert "secret" not in json.dumps(found)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({}, "missing image: give url (a URL) or image"),
        ({"url": " ", "image": ""}, "missing image: give url (a URL) or image"),
        ("http://example.com/a.jpg", 'an item is an object, {"url": ...} or {"image": ...}'),
        ({"url": 5}, "url must be a string"),
        ({"image": b64(b"x"), "id": 1.5}, "id must be a string of at most 256 characters"),
        ({"image": b64(b"x"), "id": "x" * 257}, "id must be a string of at most 256 characters"),
        ({"url": "http://a/b.png", "algorithm": "phash"}, "unknown item field 'algorithm'"),
    ],
)
def test_a_malformed_item_is_its_own_error(
    base: str, seed_bytes: bytes, item: Any, message: str
) -> None:
    found = results(httpx.post(base + BATCH, json=[item, {"image": b64(seed_bytes)}]))
    assert found[0]["error"]["code"] == "invalid_request"
    assert found[0]["error"]["message"].startswith(message)
    assert found[1]["data"] == SEED


# --- what fails the whole batch ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, "not valid"),
        ({"json": {"images": []}}, "unknown field 'images'"),
        ({"json": {"algorithm": "phash"}}, "the batch has no items"),
        ({"json": {"items": {"url": "x"}}}, "a JSON batch is a list of items"),
        ({"json": "http://example.com/a.jpg"}, "a JSON batch is a list of items"),
        ({"json": []}, "the batch is empty"),
        ({"json": [{"image": "AAAA"}] * (MAX_ITEMS + 1)}, "the batch has 101 items"),
        ({"json": {"items": [{"image": "AAAA"}], "algorithm": "md5"}}, "unknown algorithm"),
        ({"json": {"items": [{"image": "AAAA"}], "profile": "opencv"}}, "unknown profile"),
        ({"json": {"items": [{"image": "AAAA"}], "fast": "maybe"}}, "fast"),
        ({"json": {"items": [{"image": "AAAA"}], "algorithm": ["x", {}]}}, "must be a string"),
        ({"content": b"\x89PNG\r\n\x1a\n", "headers": {"content-type": "image/png"}}, "a batch is"),
        ({"content": b""}, "a batch is JSON"),
        ({"files": {"image1": ("a.png", b"x")}}, "a file named 'image1'"),
        ({"files": {"image": ("a.png", b"x")}, "data": {"size": "2"}}, "a field named 'size'"),
        ({"files": [("image", ("a.png", b"x"))] * (MAX_ITEMS + 1)}, "Too many files"),
        ({"files": {"url": (None, "")}}, "the batch is empty"),
    ],
)
def test_a_malformed_batch_fails_whole(base: str, kwargs: dict[str, Any], fragment: str) -> None:
    message = error(httpx.post(base + BATCH, **kwargs), 400, "invalid_request")
    assert fragment in message


def test_options_are_checked_before_any_work(base: str) -> None:
    hits: list[str] = []

    def counted(h: BaseHTTPRequestHandler) -> None:
        hits.append(h.path)
        send_bytes(b"x")(h)

    with upstream({"/a.png": counted}) as site:
        body = {"items": [{"url": site + "/a.png"}], "algorithm": "xhash"}
        error(httpx.post(base + BATCH, json=body), 400, "invalid_request")
    assert hits == []


def test_only_post(base: str) -> None:
    response = httpx.get(base + BATCH)
    error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def _status_without_sending_the_body(base: str, content_type: str, length: int) -> str:
    """The status line the server answers to headers declaring ``length`` bytes, before
    any of them is sent."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {BATCH} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0].decode()


def test_the_batch_size_is_checked_from_content_length(base: str) -> None:
    # JSON goes to Lambda as it is, multipart in base64: three quarters of the JSON limit.
    limits = {"application/json": 1_000_000, "multipart/form-data; boundary=x": 750_000}
    for kind, limit in limits.items():
        status = _status_without_sending_the_body(base, kind, limit + 1)
        assert status.startswith("HTTP/1.1 413 "), (kind, status)
    over = httpx.post(base + BATCH, json=[{"image": "A" * 1_000_000}])
    assert "the limit is 1,000,000" in error(over, 413, "too_large")
    files = [("image", (f"{i}.png", b"\0" * 100_000)) for i in range(8)]
    assert "the limit is 750,000" in error(httpx.post(base + BATCH, files=files), 413, "too_large")


def test_meta_lists_the_route_and_its_limits(base: str) -> None:
    data = ok(httpx.get(base + "/v1/meta"))
    assert "POST /v1/hash/batch" in data["routes"]  # type: ignore[operator]
    assert data["limits"]["batch"] == {  # type: ignore[index]
        "max_items": MAX_ITEMS,
        "max_json_bytes": 1_000_000,
        "max_multipart_bytes": 750_000,
        "fetch_seconds": Settings().batch_fetch_seconds,
        "seconds": Settings().batch_seconds,
    }


def test_one_log_line_per_batch(server: tuple[str, list[str]], seed_bytes: bytes) -> None:
    base, lines = server
    response = httpx.post(base + BATCH, params={"algorithm": "phash"}, json=[{"image": "AAAA"}])
    request_id = response.headers["x-request-id"]
    deadline = time.monotonic() + 10
    mine: list[dict[str, object]] = []
    while not mine and time.monotonic() < deadline:  # another thread reads the server's output
        mine = [json.loads(x) for x in list(lines) if x.startswith("{") and request_id in x]
        time.sleep(0.05)
    [line] = mine
    assert (line["route"], line["status"], line["algorithm"]) == (BATCH, 200, "phash")


# --- the budgets -----------------------------------------------------------------------


def test_the_budgets_cut_fetching_and_hashing() -> None:
    """URLs are fetched a few at a time until the fetch budget is spent, and those whose
    turn comes later are not fetched at all; with no seconds for hashing, nothing is."""
    hits: list[str] = []
    lock = threading.Lock()

    def slow(h: BaseHTTPRequestHandler) -> None:
        with lock:
            hits.append(h.path)
        time.sleep(8)  # past the budget: the fetch is given up on before it answers

    env = {**ENV, "IMGHASH_BATCH_FETCH_SECONDS": "2", "IMGHASH_BATCH_SECONDS": "0"}
    with api_server(env) as (base, _), upstream({"/slow": slow}) as site:
        urls = [{"url": f"{site}/slow?{i}", "id": i} for i in range(FETCHES_AT_ONCE + 2)]
        inline = {"image": b64(encode(photo_like(), "PNG")), "id": "inline"}
        found = results(httpx.post(base + BATCH, json=[*urls, inline], timeout=30))
    cut = "the server behind the URL had not sent the image when the batch's 2 s for fetching"
    not_fetched = "not fetched: the batch's 2 s for fetching URLs ran out before this URL's turn"
    messages = [r["error"]["message"] for r in found[: len(urls)]]
    assert all(r["error"]["code"] == "upstream_timeout" for r in found[: len(urls)])
    assert [m.startswith(cut) for m in messages] == [True] * FETCHES_AT_ONCE + [False] * 2
    assert [m.startswith(not_fetched) for m in messages[FETCHES_AT_ONCE:]] == [True, True]
    with lock:
        assert sorted(hits) == sorted(f"/slow?{i}" for i in range(FETCHES_AT_ONCE))
    assert found[-1]["id"] == "inline"
    assert found[-1]["error"]["code"] == "overloaded"
    assert found[-1]["error"]["message"].startswith("not hashed: the batch's 0 s ran out")
