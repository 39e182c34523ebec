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


@pytest.mark.parametrize("function", ["hash", "compare", "meta", "search"])
def test_each_function_mounts_only_its_own_routes(function: str) -> None:
    app = handler_module(function).handler.app
    assert set(app.openapi()["paths"]) == {f"/v1/{function}"}


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
