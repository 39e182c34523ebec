"""Shared fixtures: the corpus (found through IMGHASH_CORPUS), generated images, and a real
PostgreSQL (pgserver) with a schema per test and the RDS Data API served from it."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import encode, need, photo_like

ROOT = Path(__file__).resolve().parent.parent


def _corpus_dir() -> Path:
    return Path(os.environ.get("IMGHASH_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()


@pytest.fixture(scope="session", autouse=True)
def _private_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The default index lives in the user's data directory: during the tests (and their
    subprocesses) that is a fresh folder, never the real user's."""
    saved = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("data-home"))
    yield
    if saved is None:
        del os.environ["XDG_DATA_HOME"]
    else:
        os.environ["XDG_DATA_HOME"] = saved


@pytest.fixture(autouse=True)
def _event_loops_closed() -> Iterator[None]:
    """Every event loop a test leaves as asyncio's current one is closed when it ends.

    Mangum (the Lambda handlers) runs requests on the current loop and makes one when there
    is none; ``asyncio.run`` later replaces it without closing it. An unclosed loop is
    only collected when the garbage collector next runs, in whichever test runs then,
    and its ResourceWarning (an unclosed socket) fails that test under
    ``filterwarnings = error``: a random test, once in a while (a WEBP decode test did).
    So each test starts with a loop of its own set as current, and every loop current at
    its end is closed, deterministically, here.
    """
    policy = asyncio.get_event_loop_policy()
    own = policy.new_event_loop()
    policy.set_event_loop(own)
    yield
    try:  # after set_event_loop, this never makes a loop: the current one, or an error
        current: asyncio.AbstractEventLoop | None = policy.get_event_loop()
    except RuntimeError:
        current = None
    policy.set_event_loop(None)
    for loop in {own, current} - {None}:
        if loop is not None and not loop.is_running() and not loop.is_closed():
            loop.close()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared test corpus; skipped when absent, a failure when CI requires it."""
    path = _corpus_dir()
    if not (path / "reference" / "jimp-0.22.json").is_file():
        message = f"test corpus not found at {path} (set IMGHASH_CORPUS)"
        if os.environ.get("IMGHASH_REQUIRE_CORPUS") == "1":
            pytest.fail(message + "; IMGHASH_REQUIRE_CORPUS=1 makes this a failure")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def reference(corpus: Path) -> dict[str, dict[str, Any]]:
    """The reference engine's (Jimp 0.22) hashes of every readable corpus file."""
    data: dict[str, dict[str, Any]] = json.loads(
        (corpus / "reference" / "jimp-0.22.json").read_text()
    )
    return data


@pytest.fixture
def make_image() -> Callable[..., bytes]:
    """Bytes of a generated picture: ``make_image(width, height, fmt="PNG", seed=0)``."""

    def make(width: int = 96, height: int = 64, fmt: str = "PNG", seed: int = 0) -> bytes:
        return encode(photo_like(width, height, seed), fmt)

    return make


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server for the whole run (pgserver); its URL."""
    from tests.pg import server

    with ExitStack() as stack:
        try:
            url = stack.enter_context(server())
        except Exception as err:  # not installed, or it could not start: say which
            need(False, f"PostgreSQL (pgserver) could not start: {type(err).__name__}: {err}")
        yield url


@pytest.fixture
def pg_url(postgres: str) -> Iterator[str]:
    """The URL of an empty schema of its own on the test server."""
    from tests.pg import fresh_schema

    with fresh_schema(postgres) as url:
        yield url


@pytest.fixture
def rds_data(pg_url: str) -> Iterator[Any]:
    """A botocore ``rds-data`` client whose ExecuteStatement runs on the test's schema."""
    import boto3

    from tests.pg import DataApiOnPostgres

    client = boto3.client(
        "rds-data",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    service = DataApiOnPostgres(pg_url)
    service.attach(client.meta.events)
    client.service = service
    yield client
    service.close()
