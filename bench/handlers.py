"""Lambda handlers: cold import time in fresh processes, and Mangum's per-call overhead."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, bytecode_env, table

RUNS = 7
BENCH = Path(__file__).resolve().parent
CHILD = """
import importlib.util, json, logging, sys, time
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
took = [time.perf_counter() - start]
sys.path.insert(0, {bench!r})
from handlers import _Context  # after the import is timed
logging.getLogger("imghash.access").disabled = True
event = json.loads(open({event!r}).read())
for _ in range(2):
    start = time.perf_counter()
    assert module.handler(event, _Context())["statusCode"] == 200
    took.append(time.perf_counter() - start)
print(json.dumps(took))
"""

#: The event each function's first requests are timed with: images posted, no URL (the
#: fetcher, and httpx with it, is loaded by the first request that has a URL).
EVENTS = {
    "hash": "hash_post_raw.json",
    "batch": "batch_post_multipart.json",
    "compare": "compare_post_multipart.json",
    "meta": "meta_get.json",
}


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def _cold(function: str, env: dict[str, str]) -> tuple[float, float, float]:
    """Median seconds of a fresh process's import of the handler, then of its first request
    and of its second."""
    path = str(ROOT / "functions" / function / "app.py")
    event = str(ROOT / "events" / EVENTS[function])
    times: list[list[float]] = []
    for run in range(RUNS + 1):  # the first fills the bytecode cache and is not counted
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(path=path, event=event, bench=str(BENCH))],
            capture_output=True,
            text=True,
            check=True,
            env=env | {"IMGHASH_THREADS": "1"},  # as template.yaml sets it
        )
        if run:
            times.append(json.loads(out.stdout.strip().splitlines()[-1]))
    imported, first, second = (statistics.median(column) for column in zip(*times, strict=True))
    return imported, first, second


def _load(function: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"bench_{function}", ROOT / "functions" / function / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


async def _direct(app: Any, path: str) -> None:
    """Call the ASGI app itself with a minimal scope, as an HTTP server would."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
        "scheme": "https",
        "server": ("bench", 443),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    await app(scope, receive, send)


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        env = bytecode_env(Path(scratch))
        colds = {name: _cold(name, env) for name in ("hash", "batch", "compare", "meta")}
    rows = [
        [f"functions/{n}/app.py", EVENTS[n], *(f"{s * 1000:.1f} ms" for s in times)]
        for n, times in colds.items()
    ]
    print(
        f"### Lambda handlers: cold import in a fresh process, then its first two requests, "
        f"median of {RUNS}\n"
    )
    print(table(["handler", "event", "import (init)", "first request", "second request"], rows))

    handler = _load("meta")
    logging.getLogger("imghash.access").disabled = True  # one JSON line a call: not wanted here
    event = json.loads((ROOT / "events" / "meta_get.json").read_text())
    loop = asyncio.new_event_loop()
    rounds = 300
    for _ in range(20):
        handler(event, _Context())
        loop.run_until_complete(_direct(handler.app, "/v1/meta"))
    start = time.perf_counter()
    for _ in range(rounds):
        handler(event, _Context())
    through = (time.perf_counter() - start) / rounds
    start = time.perf_counter()
    for _ in range(rounds):
        loop.run_until_complete(_direct(handler.app, "/v1/meta"))
    direct = (time.perf_counter() - start) / rounds
    loop.close()
    print(
        f"\nGET /v1/meta: {through * 1e6:.0f} µs a call through Mangum, {direct * 1e6:.0f} µs "
        f"calling the app directly: Mangum adds {(through - direct) * 1e6:.0f} µs a call."
    )
    return {
        **{f"cold_{k}": v[0] for k, v in colds.items()},
        **{f"first_request_{k}": v[1] for k, v in colds.items()},
        "mangum_us": (through - direct) * 1e6,
    }
