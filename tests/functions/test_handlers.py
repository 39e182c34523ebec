"""Every Lambda handler invoked with every event of ``events/``, as ``sam local invoke`` would."""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import imghash

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted(p for p in (ROOT / "events").glob("*.json") if '"httpMethod"' in p.read_text())
SEED = {"ahash": "fcfffff310100000", "dhash": "313c156666e4e584", "phash": "4edbd88c49eaf808"}


class Context:
    """The parts of a Lambda context object that Mangum reads."""

    function_name = "imghash-test"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:imghash-test"
    aws_request_id = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def handler_module(function: str) -> ModuleType:
    """Load ``functions/<function>/app.py`` under a unique name (each is called ``app``)."""
    path = ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"imghash_function_{function}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    function = event["path"].rsplit("/", 1)[-1]
    result = handler_module(function).handler(event, Context())
    return result["statusCode"], json.loads(result["body"])


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "events" / name).read_text())
    return data


def test_there_is_an_event_for_every_route_and_input_kind() -> None:
    names = {p.name for p in EVENTS}
    assert names >= {
        "hash_get.json",
        "hash_post_raw.json",
        "hash_post_multipart.json",
        "batch_post_json.json",
        "batch_post_multipart.json",
        "compare_get.json",
        "compare_post_multipart.json",
        "compare_post_json.json",
        "meta_get.json",
    }


@pytest.fixture(autouse=True)
def empty_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The search function reads its store from the environment: an empty SQLite file
    (made here: searching never creates one)."""
    from imghash.index import SQLiteStore

    SQLiteStore(tmp_path / "index.db").generation()  # opened for writing: the empty index
    monkeypatch.setenv("IMGHASH_DB", str(tmp_path / "index.db"))
    monkeypatch.delenv("IMGHASH_TABLE", raising=False)


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.name)
def test_every_api_event(path: Path) -> None:
    event = json.loads(path.read_text())
    assert event["requestContext"]["stage"]  # a REST API v1 proxy event
    assert "resource" in event
    status, body = invoke(event)
    assert body["meta"]["request_id"] == event["requestContext"]["requestId"]
    if "bad" in path.name:
        assert status == 400
        assert body["error"]["code"] == "invalid_request"
        return
    assert status == 200, body
    assert body["success"] is True


def test_raw_event_answers_what_the_library_computes() -> None:
    event = load("hash_post_raw.json")
    status, body = invoke(event)
    expected = imghash.hash_image(base64.b64decode(event["body"]), algorithms="phash,dhash")
    assert (status, body["data"]) == (200, expected.hex())


def test_seed_example_through_the_lambda_path(corpus: Path) -> None:
    event = copy.deepcopy(load("hash_post_raw.json"))
    seed = (corpus / "photos" / "DSCN0010.jpg").read_bytes()
    event["body"] = base64.b64encode(seed).decode()
    event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    event["headers"]["Content-Length"] = str(len(seed))
    status, body = invoke(event)
    assert (status, body["data"]) == (200, SEED)


@pytest.mark.parametrize(
    ("function", "path"),
    [
        ("hash", "/v1/hash"),
        ("batch", "/v1/hash/batch"),
        ("compare", "/v1/compare"),
        ("meta", "/v1/meta"),
        ("search", "/v1/search"),
    ],
)
def test_each_function_mounts_only_its_own_routes(function: str, path: str) -> None:
    app = handler_module(function).handler.app
    assert set(app.openapi()["paths"]) == {path}


def test_meta_handler_imports_neither_numpy_nor_pillow() -> None:
    code = (
        "import importlib.util, sys\n"
        f"path = {str(ROOT / 'functions/meta/app.py')!r}\n"
        "spec = importlib.util.spec_from_file_location('m', path)\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "heavy = {'numpy', 'PIL', 'httpx'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_seed_example_as_a_base64_query_parameter(corpus: Path) -> None:
    # A full photo in base64 is far longer than an HTTP server's request line allows,
    # but the query value path is the same: through the handler it comes out exactly.
    event = copy.deepcopy(load("hash_get.json"))
    seed = base64.b64encode((corpus / "photos" / "DSCN0010.jpg").read_bytes()).decode()
    event["queryStringParameters"] = {"image": "data:image/jpeg;base64," + seed}
    event["multiValueQueryStringParameters"] = {"image": [event["queryStringParameters"]["image"]]}
    status, body = invoke(event)
    assert (status, body["data"]) == (200, SEED)


# --- the batch function --------------------------------------------------------------


def raw_hash_event(body: bytes, content_type: str = "image/jpeg") -> dict[str, Any]:
    """The raw-body hash event carrying ``body``: what /v1/hash answers for one item."""
    event = copy.deepcopy(load("hash_post_raw.json"))
    event["body"] = base64.b64encode(body).decode()
    event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    sent = {"Content-Length": str(len(body)), "Content-Type": content_type}
    event["headers"].update(sent)
    event["multiValueHeaders"].update({name: [value] for name, value in sent.items()})
    return event


def test_json_batch_event_answers_each_item_in_order() -> None:
    event = load("batch_post_json.json")
    sent = json.loads(event["body"])
    status, body = invoke(event)
    assert status == 200, body
    results = body["data"]["results"]
    assert [r["index"] for r in results] == list(range(len(sent["items"])))
    assert [r.get("id") for r in results] == [item.get("id") for item in sent["items"]]
    cat, jpeg, notes, intranet = results
    for result, item in ((cat, sent["items"][0]), (jpeg, sent["items"][1])):
        image = base64.b64decode(item["image"].split(",")[-1])
        assert result["data"] == imghash.hash_image(image, algorithms=sent["algorithm"]).hex()
    # Each bad item gets what /v1/hash gives for it, code and message, and only it fails.
    _, alone = invoke(raw_hash_event(base64.b64decode(sent["items"][2]["image"])))
    assert notes["error"] == alone["error"]
    assert notes["error"]["code"] == "unsupported_image"
    assert intranet["error"]["code"] == "url_not_allowed"
    assert "data" not in notes
    assert "data" not in intranet
    assert (body["data"]["count"], body["data"]["hashed"], body["data"]["failed"]) == (4, 2, 2)


def test_multipart_batch_event_answers_each_file_by_its_name() -> None:
    event = load("batch_post_multipart.json")
    raw = base64.b64decode(event["body"])
    boundary = event["headers"]["Content-Type"].split("boundary=")[1].encode()
    files = []
    for part in raw.split(b"--" + boundary)[1:-1]:
        head, _, data = part.partition(b"\r\n\r\n")
        if b"filename=" in head:
            name = head.split(b'filename="')[1].split(b'"')[0].decode()
            files.append((name, data.removesuffix(b"\r\n")))
    assert len(files) == 3
    status, body = invoke(event)
    assert status == 200, body
    assert [(r["index"], r["id"]) for r in body["data"]["results"]] == [
        (i, name) for i, (name, _) in enumerate(files)
    ]
    for result, (_, data) in zip(body["data"]["results"], files, strict=True):
        assert result["data"] == imghash.hash_image(data, profile="imagehash").hex()


def test_batch_over_the_payload_limit_is_refused_from_content_length() -> None:
    event = copy.deepcopy(load("batch_post_json.json"))
    event["headers"]["Content-Length"] = "6000001"
    event["multiValueHeaders"]["Content-Length"] = ["6000001"]
    status, body = invoke(event)
    assert (status, body["error"]["code"]) == (413, "too_large")
    assert "6,000,000" in body["error"]["message"]
