"""The local server under wrk (a separate process): requests/s, latency, overhead (DESIGN §9).

Overhead is the server's median latency at one connection minus the in-process
time to hash the same bytes, over that hashing time: parsing, envelope, logging.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import table
from PIL import Image

import imghash

DURATION = 8

POST_SCRIPT = """
local f = io.open("{path}", "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
wrk.headers["Content-Type"] = "image/jpeg"
f:close()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "IMGHASH_API_KEYS": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "imghash.web", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/v1/meta", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("bench: the server did not start")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, connections: int, script: str | None) -> dict[str, float]:
    args = [
        "wrk",
        "-t",
        str(min(connections, 2)),
        "-c",
        str(connections),
        "-d",
        f"{DURATION}s",
        "--latency",
    ]
    if script:
        args += ["-s", script]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    found = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for label in ("50", "99"):
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        found[f"p{label}"] = float(value) * _UNITS[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    found["errors"] = float(errors.group(1)) if errors else 0.0
    return found


def _thumb(path: Path, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    with Image.open(path) as image:
        image.convert("RGB").resize(size).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def run(corpus: Path) -> dict[str, float]:
    if shutil.which("wrk") is None:
        print("### Local server\n\nwrk is not installed (apt-get install wrk): skipped.")
        return {}
    photo = corpus / "photos" / "DSCN0010.jpg"  # 640x480
    data = photo.read_bytes()
    imghash.hash_image(data)
    samples = []
    for _ in range(30):
        start = time.perf_counter()
        imghash.hash_image(data)
        samples.append(time.perf_counter() - start)
    hashing_ms = statistics.median(samples) * 1000
    small1 = base64.urlsafe_b64encode(_thumb(photo, (64, 48))).decode()
    small2 = base64.urlsafe_b64encode(_thumb(corpus / "photos" / "DSCN0012.jpg", (64, 48))).decode()
    compare_path = f"/v1/compare?image1={small1}&image2={small2}"
    rows = []
    results: dict[str, float] = {"hashing_ms": hashing_ms}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(POST_SCRIPT.format(path=photo))
    try:
        for workers, connections in ((1, 1), (1, 4), (4, 4)):
            process, url = _start(workers)
            try:
                post = _wrk(url + "/v1/hash", connections, lua.name)
                get = _wrk(url + compare_path, connections, None)
            finally:
                process.terminate()
                process.wait(timeout=20)
            plural = "s" * (connections > 1)
            label = f"{workers} worker{'s' * (workers > 1)}, {connections} connection{plural}"
            rows.append(
                [
                    label,
                    "POST /v1/hash (640x480 JPEG)",
                    f"{post['rps']:.1f}",
                    f"{post['p50']:.1f}",
                    f"{post['p99']:.1f}",
                    int(post["errors"]),
                ]
            )
            rows.append(
                [
                    label,
                    "GET /v1/compare (two base64 thumbnails)",
                    f"{get['rps']:.1f}",
                    f"{get['p50']:.1f}",
                    f"{get['p99']:.1f}",
                    int(get["errors"]),
                ]
            )
            if (workers, connections) == (1, 1):
                results["overhead"] = (post["p50"] - hashing_ms) / hashing_ms
                results["p50_ms"] = post["p50"]
    finally:
        os.unlink(lua.name)
    print(f"### Local server under wrk, {DURATION} s per row\n")
    print(table(["server", "request", "requests/s", "p50 ms", "p99 ms", "non-2xx"], rows))
    print(
        f"\nHashing the 640x480 JPEG in process: {hashing_ms:.1f} ms; the server's median at one "
        f"connection: {results['p50_ms']:.1f} ms, so parsing, envelope and logging add "
        f"{results['overhead']:.0%} of the hashing time."
    )
    return results
