"""A function's first request loads nothing: its app did that while it was made (``web._warm``).

Each check runs in a fresh interpreter, as a Lambda execution environment starts: what the
first request would have loaded is already loaded in the test process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from imghash import Settings
from imghash.web import create_app

ROOT = Path(__file__).resolve().parents[2]

# Loads the hash and compare functions as Lambda does (the init phase), then invokes each
# with the events that carry images, both profiles among them, and reports what the
# requests imported from the libraries hashing uses.
FIRST_REQUESTS = """
import json, sys, threading
from tests.functions.test_handlers import Context, handler_module, load

handlers = {name: handler_module(name).handler for name in ("hash", "compare")}
threads_after_init = threading.active_count()
before = set(sys.modules)
statuses = []
for name, event in (
    ("hash", "hash_post_raw.json"),
    ("hash", "hash_post_multipart.json"),
    ("compare", "compare_post_multipart.json"),
):
    statuses.append(handlers[name](load(event), Context())["statusCode"])
watched = ("imghash", "PIL", "numpy", "simplejpeg", "anyio")
loaded = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in watched)
print(json.dumps({"threads": threads_after_init, "statuses": statuses, "loaded": loaded}))
"""


def first_requests() -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_REQUESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=os.environ | {"IMGHASH_THREADS": "1"},  # as the template sets it
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_first_requests_load_no_module_and_init_starts_no_thread() -> None:
    found = first_requests()
    assert found["statuses"] == [200, 200, 200]
    # Without the warm-up these requests loaded 35 modules: Pillow's plugins and EXIF
    # reader, numpy.fft, anyio's backend.
    assert found["loaded"] == []
    # No thread is left running by the warm-up: the snapshot holds none, and a process that
    # forks a pool (a local server's batch) still may.
    assert found["threads"] == 1


def test_a_warm_up_that_fails_leaves_the_app_working() -> None:
    # Limits this low refuse the warm-up's own image; the app is made all the same, and
    # says what a request over them gets.
    app = create_app(["hash"], settings=Settings(max_bytes=64), docs=False)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/v1/hash", content=b"\xff" * 100)

    reply = asyncio.run(post())
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "too_large"
