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
CHILD = """
import importlib.util, time
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def _cold(function: str, env: dict[str, str]) -> float:
    path = str(ROOT / "functions" / function / "app.py")
    times = []
    for run in range(RUNS + 1):  # the first fills the bytecode cache and is not counted
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(path=path)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        if run:
            times.append(float(out.stdout))
    return statistics.median(times)


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
    rows = [[f"functions/{n}/app.py", f"{s * 1000:.0f} ms"] for n, s in colds.items()]
    print(f"### Lambda handlers: cold import in a fresh process, median of {RUNS}\n")
    print(table(["handler", "import"], rows))

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
    return {**{f"cold_{k}": v for k, v in colds.items()}, "mangum_us": (through - direct) * 1e6}
