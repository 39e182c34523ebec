"""A soak of the local server at the top usage tier's 50 requests a second (DESIGN §9).

Open loop: request ``i`` is sent at ``start + i / RATE`` whether or not the earlier ones
have been answered, so a slow server shows up as latency, not as a lower rate. The mix
cycles through valid and invalid requests, each with the status it must get; an
error is any other status, or no answer. Latency is counted from the request's
scheduled time. The server's resident memory and open files are read from /proc at
the start (after a warm-up) and at the end.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import table
from PIL import Image

RATE = 50
SECONDS = int(os.environ.get("IMGHASH_SOAK_SECONDS", "60"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _encoded(path: Path, size: tuple[int, int], fmt: str) -> bytes:
    with Image.open(path) as image:
        buffer = io.BytesIO()
        image.convert("RGB").resize(size).save(buffer, fmt)
    return buffer.getvalue()


def _mix(corpus: Path) -> list[tuple[str, dict[str, Any], int]]:
    """(name, httpx request arguments, the status it must get), cycled through in order."""
    photo = (corpus / "photos" / "DSCN0010.jpg").read_bytes()
    thumb = base64.b64encode(_encoded(corpus / "photos" / "DSCN0012.jpg", (64, 48), "PNG"))
    other = base64.b64encode(_encoded(corpus / "photos" / "DSCN0021.jpg", (64, 48), "JPEG"))
    jpeg = {"content-type": "image/jpeg"}
    return [
        (
            "POST /v1/hash, 640x480 JPEG",
            {"method": "POST", "url": "/v1/hash", "content": photo, "headers": jpeg},
            200,
        ),
        (
            "GET /v1/compare, two base64 thumbnails",
            {
                "method": "GET",
                "url": "/v1/compare",
                "params": {"image1": thumb.decode(), "image2": other.decode()},
            },
            200,
        ),
        ("GET /v1/meta", {"method": "GET", "url": "/v1/meta"}, 200),
        (
            "POST /v1/search, 640x480 JPEG",
            {"method": "POST", "url": "/v1/search", "content": photo, "headers": jpeg},
            200,
        ),
        (
            "POST /v1/hash, JSON base64",
            {
                "method": "POST",
                "url": "/v1/hash",
                "json": {"image": thumb.decode(), "algorithm": "phash"},
            },
            200,
        ),
        (
            "POST /v1/hash, random bytes (415)",
            {"method": "POST", "url": "/v1/hash", "content": os.urandom(5000), "headers": jpeg},
            415,
        ),
        (
            "POST /v1/hash, truncated JPEG (415)",
            {
                "method": "POST",
                "url": "/v1/hash",
                "content": photo[: len(photo) // 3],
                "headers": jpeg,
            },
            415,
        ),
        (
            "GET /v1/hash, unknown algorithm (400)",
            {
                "method": "GET",
                "url": "/v1/hash",
                "params": {"image": thumb.decode(), "algorithm": "md5"},
            },
            400,
        ),
        (
            "GET /v1/hash, loopback URL (400)",
            {"method": "GET", "url": "/v1/hash", "params": {"url": "http://127.0.0.1:9/a.jpg"}},
            400,
        ),
        (
            "POST /v1/compare, JSON nested 10,000 deep (400)",
            {
                "method": "POST",
                "url": "/v1/compare",
                "content": b'{"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
                "headers": {"content-type": "application/json"},
            },
            400,
        ),
        ("DELETE /v1/hash (405)", {"method": "DELETE", "url": "/v1/hash"}, 405),
        ("GET /v1/nowhere (404)", {"method": "GET", "url": "/v1/nowhere"}, 404),
    ]


def _proc(pid: int) -> tuple[float, int]:
    """Resident memory in MB and open file descriptors of a process."""
    with open(f"/proc/{pid}/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return rss / 1024, len(os.listdir(f"/proc/{pid}/fd"))


async def _soak(base: str, mix: list[tuple[str, dict[str, Any], int]], pid: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    kinds = {name: 0 for name, _, _ in mix}
    peak = 0.0
    trace: list[float] = []
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def one(at: float, name: str, request: dict[str, Any], expected: int) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            try:
                response = await client.request(**request)
                got = str(response.status_code)
                if response.status_code == expected:
                    json.loads(response.content)  # the envelope, always JSON
            except (httpx.HTTPError, ValueError) as err:
                got = type(err).__name__
            latencies.append(time.perf_counter() - at)
            kinds[name] += 1
            if got != str(expected):
                errors[f"{name}: {got}"] = errors.get(f"{name}: {got}", 0) + 1

        start = time.perf_counter() + 0.5
        tasks = []
        for i in range(RATE * SECONDS):
            name, request, expected = mix[i % len(mix)]
            tasks.append(asyncio.create_task(one(start + i / RATE, name, request, expected)))
        for n, task in enumerate(tasks):
            await task
            if n % (RATE * 10) == 0:  # every 10 s of schedule
                trace.append(_proc(pid)[0])
                peak = max(peak, trace[-1])
        elapsed = time.perf_counter() - start
    return {
        "latencies": latencies,
        "errors": errors,
        "elapsed": elapsed,
        "peak": peak,
        "trace": trace,
    }


def run(corpus: Path) -> dict[str, Any]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as work:
        db = Path(work) / "index.db"
        subprocess.run(
            [
                str(Path(sys.executable).with_name("imghash")),
                "index",
                "--db",
                str(db),
                str(corpus / "photos"),
            ],
            check=True,
            capture_output=True,
        )
        env = {**os.environ, "IMGHASH_API_KEYS": "", "IMGHASH_DB": str(db)}
        server = subprocess.Popen(
            [sys.executable, "-m", "imghash.web", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    httpx.get(base + "/v1/meta", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            mix = _mix(corpus)
            with httpx.Client(base_url=base, timeout=30) as client:  # warm-up: every kind once
                for _, request, _ in mix:
                    client.request(**request)
            time.sleep(1)
            rss0, fds0 = _proc(server.pid)
            result = asyncio.run(_soak(base, mix, server.pid))
            time.sleep(1)
            rss1, fds1 = _proc(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)
    latencies = sorted(result["latencies"])
    sent = len(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(0.99 * (sent - 1))] * 1000
    errors = sum(result["errors"].values())
    print(
        f"#### Soak: the local server (1 worker) at {RATE} requests/s for {SECONDS} s, "
        f"a mix of {len(mix)} kinds ({sum(1 for m in mix if m[2] == 200)} valid), open loop\n"
    )
    print(
        table(
            [
                "requests",
                "achieved rate",
                "errors",
                "p50 ms",
                "p99 ms",
                "RSS MB start / end / peak",
                "open files start / end",
            ],
            [
                [
                    f"{sent:,}",
                    f"{sent / result['elapsed']:.1f}/s",
                    errors,
                    f"{p50:.1f}",
                    f"{p99:.1f}",
                    f"{rss0:.0f} / {rss1:.0f} / {max(result['peak'], rss1):.0f}",
                    f"{fds0} / {fds1}",
                ]
            ],
        )
    )
    print(f"\nServer RSS every 10 s (MB): {', '.join(f'{r:.0f}' for r in result['trace'])}")
    for what, count in sorted(result["errors"].items()):
        print(f"- error: {what} x {count}")
    return {
        "requests": sent,
        "errors": errors,
        "p50_ms": p50,
        "p99_ms": p99,
        "rss_mb": (rss0, rss1),
        "fds": (fds0, fds1),
    }


if __name__ == "__main__":
    from common import corpus as corpus_dir

    run(corpus_dir())
