"""The HTTP API through a real uvicorn server and a real HTTP client (DESIGN §5)."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

import imghash
from tests.helpers import encode, photo_like
from tests.servers import api_server, send_bytes, upstream

IMGHASH = Path(sys.executable).with_name("imghash")
SEED = {"ahash": "fcfffff310100000", "dhash": "313c156666e4e584", "phash": "4edbd88c49eaf808"}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    # Private URLs are allowed here only so that a local upstream can serve test images.
    with api_server({"IMGHASH_ALLOW_PRIVATE_URLS": "1", "IMGHASH_MAX_BYTES": "3000000"}) as s:
        yield s


@pytest.fixture(scope="module")
def base(server: tuple[str, list[str]]) -> str:
    return server[0]


@pytest.fixture(scope="module")
def seed_bytes(corpus: Path) -> bytes:
    return (corpus / "photos" / "DSCN0010.jpg").read_bytes()


@pytest.fixture(scope="module")
def seed_url(seed_bytes: bytes) -> Iterator[str]:
    with upstream({"/DSCN0010.jpg": send_bytes(seed_bytes)}) as url:
        yield url + "/DSCN0010.jpg"


def ok(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["success"] is True
    assert set(body) == {"data", "meta", "status", "message", "success"}
    assert body["meta"]["request_id"] == response.headers["x-request-id"]
    assert body["meta"]["timestamp"].endswith("Z")
    return body["data"]  # type: ignore[no-any-return]


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["status"] == "error"
    assert body["data"] is None
    assert body["error"]["code"] == code
    assert "Traceback" not in response.text
    return str(body["error"]["message"])


# --- the seed example through every route and input kind -----------------------------


def test_get_hash_by_url(base: str, seed_url: str) -> None:
    assert ok(httpx.get(base + "/v1/hash", params={"url": seed_url})) == SEED


def test_post_raw_body(base: str, seed_bytes: bytes) -> None:
    # The Content-Type is not trusted: the bytes are sniffed.
    response = httpx.post(
        base + "/v1/hash", content=seed_bytes, headers={"content-type": "image/png"}
    )
    assert ok(response) == SEED


def test_post_raw_body_sent_as_a_form(base: str, seed_bytes: bytes, seed_url: str) -> None:
    # curl --data-binary @photo.jpg labels the bytes application/x-www-form-urlencoded
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert ok(httpx.post(base + "/v1/hash", content=seed_bytes, headers=form)) == SEED
    assert ok(httpx.post(base + "/v1/hash", data={"url": seed_url})) == SEED


def test_post_multipart(base: str, seed_bytes: bytes) -> None:
    response = httpx.post(base + "/v1/hash", files={"image": ("x.jpg", seed_bytes)})
    assert ok(response) == SEED


PAGE = b'<!DOCTYPE html>\n<html lang="en"><body><a href="/x?a=1&b=2">x</a></body></html>\n'


@pytest.mark.parametrize(
    "body", [PAGE, b"%PDF-1.4\n%\xe2\xe3", b"hello, world\n", b'{"url": "x"}'], ids=repr
)
def test_a_non_image_sent_as_a_form_is_a_non_image(base: str, body: bytes) -> None:
    # curl --data-binary @page.html: the form type, but no form: 415 as for any raw body
    form = {"content-type": "application/x-www-form-urlencoded"}
    error(httpx.post(base + "/v1/hash", content=body, headers=form), 415, "unsupported_image")


def test_a_real_form_stays_a_form(base: str, seed_bytes: bytes) -> None:
    encoded = base64.b64encode(seed_bytes).decode()
    answer = ok(httpx.post(base + "/v1/hash", data={"image": encoded, "algorithm": "phash"}))
    assert answer == {"phash": SEED["phash"]}
    message = error(
        httpx.post(base + "/v1/hash", data={"algorithm": "phash"}), 400, "invalid_request"
    )
    assert "missing image" in message


def test_file_is_an_alias_of_image(base: str, seed_bytes: bytes) -> None:
    assert ok(httpx.post(base + "/v1/hash", files={"file": ("x.jpg", seed_bytes)})) == SEED
    files = {"file1": ("a.jpg", seed_bytes), "file2": ("b.jpg", seed_bytes)}
    data = ok(httpx.post(base + "/v1/compare", files=files))
    assert data["hashes"] == {"image1": SEED, "image2": SEED}  # type: ignore[index]
    both = {"file": ("x.jpg", seed_bytes), "image": ("y.jpg", seed_bytes)}
    message = error(httpx.post(base + "/v1/hash", files=both), 400, "invalid_request")
    assert message == "give image or file, not both"


def test_missing_image_names_the_fields_and_what_was_sent(base: str, seed_bytes: bytes) -> None:
    message = error(
        httpx.post(base + "/v1/hash", files={"upload": ("x.jpg", seed_bytes)}),
        400,
        "invalid_request",
    )
    assert message == (
        "missing image: give url (a URL) or image (base64, or a multipart file; file works "
        "too), or send the image itself as the request body; the files sent are named upload"
    )
    message = error(
        httpx.post(base + "/v1/compare", files={"image1": ("x.jpg", seed_bytes)}),
        400,
        "invalid_request",
    )
    assert message.startswith("missing image: give url2 (a URL) or image2 (base64, or a ")
    assert "file2 works too" in message
    assert message.endswith("the files sent are named image1")


@pytest.mark.parametrize("prefix", ["", "data:image/jpeg;base64,"])
def test_post_json_base64(base: str, seed_bytes: bytes, prefix: str) -> None:
    image = prefix + base64.b64encode(seed_bytes).decode()
    assert ok(httpx.post(base + "/v1/hash", json={"image": image})) == SEED


def test_post_json_url(base: str, seed_url: str) -> None:
    assert ok(httpx.post(base + "/v1/hash", json={"url": seed_url})) == SEED


def test_get_hash_base64_small_image(base: str) -> None:
    small = encode(photo_like(40, 30), "PNG")
    data = ok(httpx.get(base + "/v1/hash", params={"image": base64.b64encode(small).decode()}))
    assert data == imghash.hash_image(small).hex()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"algorithm": "phash"}, {"phash": SEED["phash"]}),
        ({"algorithm": "dhash,ahash"}, {"dhash": SEED["dhash"], "ahash": SEED["ahash"]}),
        ({"algorithm": "all"}, SEED),
    ],
)
def test_algorithm_selection(
    base: str, seed_url: str, params: dict[str, str], expected: dict[str, str]
) -> None:
    assert ok(httpx.get(base + "/v1/hash", params={"url": seed_url, **params})) == expected


def test_profile_and_fast(base: str, seed_bytes: bytes) -> None:
    data = ok(
        httpx.post(
            base + "/v1/hash", params={"profile": "imagehash", "fast": "true"}, content=seed_bytes
        )
    )
    assert data == imghash.hash_image(seed_bytes, profile="imagehash", fast=True).hex()


def test_compare_every_source_kind(base: str, seed_bytes: bytes, seed_url: str) -> None:
    expected_cmp = {
        "ahash": {"distance": 0, "similarity": 100},
        "dhash": {"distance": 0, "similarity": 100},
        "phash": {"distance": 0, "similarity": 100},
    }
    b64 = base64.b64encode(seed_bytes).decode()
    answers = [
        httpx.get(base + "/v1/compare", params={"url1": seed_url, "url2": seed_url}),
        httpx.post(
            base + "/v1/compare",
            files={"image1": ("a.jpg", seed_bytes), "image2": ("b.jpg", seed_bytes)},
        ),
        httpx.post(base + "/v1/compare", json={"image1": b64, "url2": seed_url}),
        httpx.post(
            base + "/v1/compare", files={"image1": ("a.jpg", seed_bytes)}, data={"url2": seed_url}
        ),
    ]
    for response in answers:
        data = ok(response)
        assert data["hashes"] == {"image1": SEED, "image2": SEED}
        assert data["comparison"] == expected_cmp
        assert data["likely_same"] is True
        assert data["average_similarity"] == 100


def test_compare_different_pictures(base: str) -> None:
    a, b = encode(photo_like(seed=1), "PNG"), encode(photo_like(seed=9), "PNG")
    data = ok(
        httpx.post(base + "/v1/compare", files={"image1": ("a.png", a), "image2": ("b.png", b)})
    )
    expected = imghash.compare_images(a, b).to_dict()
    assert data == expected


def test_meta(base: str) -> None:
    data = ok(httpx.get(base + "/v1/meta"))
    for key in (
        "name",
        "note",
        "source",
        "endpoints",
        "auth",
        "algorithms",
        "profiles",
        "formats",
        "limits",
    ):
        assert key in data
    assert data["limits"]["max_bytes"] == 3_000_000  # type: ignore[index]
    assert set(data["algorithms"]) == {"ahash", "dhash", "phash", "pdq"}  # type: ignore[arg-type]


# --- errors: every row of the table ----------------------------------------------------


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "missing image"),
        ({"algorithm": "md5", "image": "AAAA"}, "unknown algorithm 'md5'"),
        ({"profile": "opencv", "image": "AAAA"}, "unknown profile"),
        ({"image": "not*base64!"}, "not valid base64"),
        ({"url": "http://a/x.png", "image": "AAAA"}, "not both"),
        ({"image": "AAAA", "fast": "maybe"}, "fast"),
    ],
)
def test_invalid_requests(base: str, params: dict[str, str], fragment: str) -> None:
    assert fragment in error(httpx.get(base + "/v1/hash", params=params), 400, "invalid_request")


def test_url_not_allowed(base: str) -> None:
    message = error(
        httpx.get(base + "/v1/hash", params={"url": "ftp://example.com/a.png"}),
        400,
        "url_not_allowed",
    )
    assert "http and https" in message


def test_unknown_route_and_method(base: str) -> None:
    error(httpx.get(base + "/v2/hash"), 404, "not_found")
    error(httpx.delete(base + "/v1/hash"), 405, "method_not_allowed")


def test_body_over_the_limit_is_refused_from_content_length(base: str) -> None:
    big = b"\xff\xd8\xff" + b"\0" * 9_000_000
    error(httpx.post(base + "/v1/hash", content=big), 413, "too_large")


def test_image_over_the_byte_limit(base: str) -> None:
    error(
        httpx.post(base + "/v1/hash", content=b"\x89PNG\r\n\x1a\n" + b"\0" * 3_000_001),
        413,
        "too_large",
    )


@pytest.mark.parametrize("body", [b"<!doctype html><html></html>", b"%PDF-1.4", b"\0" * 100])
def test_not_an_image(base: str, body: bytes) -> None:
    error(httpx.post(base + "/v1/hash", content=body), 415, "unsupported_image")


def test_upstream_failures(base: str) -> None:
    with upstream({"/gone": send_bytes(b"secret page", "text/html", status=404)}) as up:
        message = error(
            httpx.get(base + "/v1/hash", params={"url": up + "/gone"}), 502, "upstream_error"
        )
        assert "secret" not in message


def test_openapi_matches_the_routes(base: str) -> None:
    spec = httpx.get(base + "/openapi.json").json()
    assert {p: sorted(v) for p, v in spec["paths"].items()} == {
        "/v1/hash": ["get", "post"],
        "/v1/hash/batch": ["post"],
        "/v1/compare": ["get", "post"],
        "/v1/meta": ["get"],
        "/v1/search": ["get", "post"],
    }
    post = spec["paths"]["/v1/hash"]["post"]
    assert set(post["requestBody"]["content"]) >= {
        "image/*",
        "multipart/form-data",
        "application/json",
    }
    for status in ("400", "413", "415", "502", "504"):
        assert status in post["responses"]
    assert "422" not in json.dumps(spec["paths"])  # FastAPI's 422 never reaches a client


def test_one_log_line_per_request_without_secrets(server: tuple[str, list[str]]) -> None:
    base, lines = server
    response = httpx.get(
        base + "/v1/hash",
        params={"image": "secretpayload", "algorithm": "phash"},
        headers={"x-api-key": "topsecretkey"},
    )
    request_id = response.headers["x-request-id"]
    deadline = time.monotonic() + 10
    mine: list[dict[str, object]] = []
    while not mine and time.monotonic() < deadline:  # another thread reads the server's output
        mine = [json.loads(x) for x in list(lines) if x.startswith("{") and request_id in x]
        time.sleep(0.05)
    [last] = mine
    assert last["route"] == "/v1/hash"
    assert last["status"] == 400
    assert last["error"] == "invalid_request"
    assert set(last) >= {"request_id", "duration_ms", "bytes_in", "algorithm", "profile"}
    text = "".join(lines)
    assert "secretpayload" not in text
    assert "topsecretkey" not in text


def test_api_keys_when_configured() -> None:
    with api_server({"IMGHASH_API_KEYS": "k-one,k-two"}) as (base, _):
        error(httpx.get(base + "/v1/meta"), 401, "unauthorized")
        error(httpx.get(base + "/v1/meta", headers={"x-api-key": "wrong"}), 401, "unauthorized")
        ok(httpx.get(base + "/v1/meta", headers={"x-api-key": "k-two"}))


def test_search_answers_from_the_index_made_by_the_cli(
    tmp_path: Path, corpus: Path, seed_bytes: bytes
) -> None:
    db = tmp_path / "index.db"
    photos = corpus / "photos"
    names = ["DSCN0010.jpg", "DSCN0012.jpg", "canon-ixus.jpg"]
    subprocess.run(
        [str(IMGHASH), "index", "--db", str(db), *(str(photos / n) for n in names)],
        check=True,
        capture_output=True,
    )
    with api_server({"IMGHASH_DB": str(db)}) as (base, _):
        data = ok(httpx.get(base + "/v1/search", params={"hash": SEED["phash"]}))
        assert [Path(m["key"]).name for m in data["matches"]] == ["DSCN0010.jpg"]  # type: ignore[index]
        assert data["indexed"] == 3
        assert data["query"]["max_distance"] == 12  # type: ignore[index]
        # an image, through every input kind
        small = resized(seed_bytes)
        for response in (
            httpx.post(base + "/v1/search", content=small),
            httpx.post(base + "/v1/search", files={"image": ("q.jpg", small)}),
            httpx.post(
                base + "/v1/search", json={"image": base64.b64encode(small).decode(), "limit": 5}
            ),
        ):
            found = ok(response)["matches"]
            assert [Path(m["key"]).name for m in found] == ["DSCN0010.jpg"]  # type: ignore[index, union-attr]
        # newly indexed images are seen without a restart
        subprocess.run(
            [
                str(IMGHASH),
                "index",
                "--db",
                str(db),
                str(corpus / "orientation" / "landscape_1.jpg"),
            ],
            check=True,
            capture_output=True,
        )
        assert ok(httpx.get(base + "/v1/search", params={"hash": SEED["phash"]}))["indexed"] == 4
        error(httpx.get(base + "/v1/search", params={"hash": "xyz"}), 400, "invalid_request")
        error(
            httpx.get(base + "/v1/search", params={"hash": SEED["phash"], "max_distance": 17}),
            400,
            "invalid_request",
        )
        error(
            httpx.get(base + "/v1/search", params={"hash": SEED["phash"], "algorithm": "md5"}),
            400,
            "invalid_request",
        )


def resized(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return encode(image.convert("RGB").resize((320, 240)), "JPEG", quality=70)


def test_multipart_base64_text_field_over_a_megabyte(base: str) -> None:
    noisy = np.random.default_rng(5).integers(0, 256, (700, 700, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noisy, "RGB"), "PNG")
    text = base64.b64encode(data).decode()
    assert len(text) > 1_100_000
    answer = ok(httpx.post(base + "/v1/hash", files={"image": (None, text)}))
    assert answer == imghash.hash_image(data).hex()


def test_a_flat_image_says_so(base: str) -> None:
    flat = encode(Image.new("RGB", (64, 48), (90, 90, 90)), "PNG")
    data = ok(httpx.post(base + "/v1/hash", content=flat))
    assert data["low_information"] is True
    assert "low_information" not in ok(
        httpx.post(base + "/v1/hash", content=encode(photo_like(), "PNG"))
    )
