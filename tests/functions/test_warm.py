"""A function's first request loads nothing: its app did that while it was made (``web._warm``).

The first-request checks run in a fresh interpreter, as a Lambda execution environment
starts: what the first request would have loaded is already loaded in the test process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from imghash import Settings
from imghash.web import _warm, create_app
from tests.helpers import encode, photo_like

ROOT = Path(__file__).resolve().parents[2]

# Loads the functions that hash as Lambda does (the init phase), then invokes each with the
# events that carry images (both profiles among them), and the hash function with a WEBP and
# a TIFF (made by the test, passed in files) in the raw event's place. It reports what the
# requests imported, and the threads the init left running (counted by the kernel, after
# numpy's own BLAS threads have started).
FIRST_REQUESTS = """
import json, os, sys, threading
import numpy
from tests.functions.test_handlers import Context, handler_module, load, raw_hash_event

def threads():
    return len(os.listdir("/proc/self/task")), threading.active_count()

def posted(path, content_type):
    return raw_hash_event(open(path, "rb").read(), content_type)

before_init = threads()
handlers = {name: handler_module(name).handler for name in ("hash", "compare", "batch")}
after_init = threads()
before = set(sys.modules)
statuses = []
for name, event in (
    ("hash", load("hash_post_raw.json")),
    ("hash", load("hash_post_multipart.json")),
    ("compare", load("compare_post_multipart.json")),
    ("batch", load("batch_post_multipart.json")),
    ("hash", posted(sys.argv[1], "image/webp")),
    ("hash", posted(sys.argv[2], "image/tiff")),
):
    statuses.append(handlers[name](event, Context())["statusCode"])
loaded = sorted(set(sys.modules) - before)
print(json.dumps({"threads": [before_init, after_init], "statuses": statuses, "loaded": loaded}))
"""


def first_requests(environ: dict[str, str], folder: Path) -> dict[str, object]:
    image = photo_like(96, 64)
    (folder / "a.webp").write_bytes(encode(image, "WEBP"))
    (folder / "a.tif").write_bytes(encode(image, "TIFF"))
    out = subprocess.run(
        [sys.executable, "-c", FIRST_REQUESTS, str(folder / "a.webp"), str(folder / "a.tif")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=environ,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "threads",
    ["1", None],
    ids=["one thread, as template.yaml sets it", "a thread per core, as make serve runs"],
)
def test_the_first_requests_load_no_module_and_init_starts_no_thread(
    threads: str | None, tmp_path: Path
) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "IMGHASH_THREADS"}
    if threads is not None:
        environ["IMGHASH_THREADS"] = threads
    found = first_requests(environ, tmp_path)
    assert found["statuses"] == [200] * 6
    # Without the warm-up the first three loaded 35 modules (Pillow's plugins and EXIF
    # reader, numpy's FFT, anyio's backend), and a WEBP or TIFF one Pillow's other plugins.
    assert found["loaded"] == []
    # The init leaves no thread running: the snapshot holds none, and a process that forks
    # a pool may still fork.
    before_init, after_init = found["threads"]  # type: ignore[misc]
    assert after_init == before_init


def test_a_warm_up_that_fails_leaves_the_app_working(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_warm, "_done", False)  # as in a fresh process
    # Limits this low refuse the warm-up's own image: the app is made all the same, it
    # says what a request over them gets, and the next app made tries again.
    app = create_app(["hash"], settings=Settings(max_bytes=64), docs=False)
    assert _warm._done is False

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/v1/hash", content=b"\xff" * 100)

    reply = asyncio.run(post())
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "too_large"
    create_app(["hash"], settings=Settings(), docs=False)
    assert _warm._done is True


def test_a_bug_in_the_warm_up_does_not_stop_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import imghash._hashing

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(_warm, "_done", False)
    monkeypatch.setattr(imghash._hashing, "hash_image", broken)
    create_app(["hash", "meta"], settings=Settings(), docs=False)
    assert _warm._done is False
