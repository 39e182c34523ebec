"""Batch hashing (``POST /v1/hash/batch``) through its Lambda handler: the cost an image
against one call each, URLs fetched while others hash, and the worst batches within the
limits (time, outcomes and peak memory, each in a fresh process)."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import ROOT, interleaved_medians, table
from handlers import _Context, _load

EVENTS = ROOT / "events"

# A fresh process runs one batch through the handler: its seconds, its outcomes and the
# peak resident memory it adds (Linux: clear_refs 5 resets the high-water mark, VmHWM).
CHILD = """
import base64, copy, json, os, sys, time, threading, importlib.util
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
os.environ.update(IMGHASH_ALLOW_PRIVATE_URLS="1")
spec = importlib.util.spec_from_file_location("app", {app!r})
app = importlib.util.module_from_spec(spec); spec.loader.exec_module(app)
import logging; logging.getLogger("imghash.access").disabled = True
import imghash
data = open({image!r}, "rb").read()

class Serve(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Serve)
site = "http://127.0.0.1:%d" % server.server_address[1]
threading.Thread(target=server.serve_forever, daemon=True).start()

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

imghash.hash_image(open({small!r}, "rb").read())  # the lazy imports, outside the peak
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS:")
imghash.hash_image(data)
alone = status("VmHWM:") - before
if {by_url}:
    items = [{{"url": site + "/%d" % i}} for i in range({count})]
else:
    items = [{{"image": base64.b64encode(data).decode()}}] * {count}
event = json.load(open({event!r}))
event["body"] = json.dumps({{"items": items}})
event["headers"]["Content-Length"] = str(len(event["body"]))
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS:")
start = time.perf_counter()
answer = json.loads(app.handler(event, None)["body"])
seconds = time.perf_counter() - start
found = answer["data"]["results"]
outcomes = Counter(r["error"]["code"] if "error" in r else "hashed" for r in found)
print(json.dumps({{"seconds": seconds, "peak_mb": status("VmHWM:") - before, "alone_mb": alone,
                  "outcomes": outcomes, "body": len(event["body"])}}))
"""


def _fresh(image: Path, small: Path, count: int, *, by_url: bool) -> dict[str, Any]:
    code = CHILD.format(
        app=str(ROOT / "functions" / "batch" / "app.py"),
        image=str(image),
        small=str(small),
        count=count,
        by_url=by_url,
        event=str(EVENTS / "batch_post_json.json"),
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _events(photos: list[Path]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One JSON batch event holding every photo, and one raw /v1/hash event for each."""
    batch = copy.deepcopy(json.loads((EVENTS / "batch_post_json.json").read_text()))
    items = [{"image": base64.b64encode(p.read_bytes()).decode(), "id": p.name} for p in photos]
    batch["body"] = json.dumps({"items": items})
    batch["headers"]["Content-Length"] = str(len(batch["body"]))
    raw = json.loads((EVENTS / "hash_post_raw.json").read_text())
    raw["queryStringParameters"] = raw["multiValueQueryStringParameters"] = None
    singles = []
    for photo in photos:
        event = copy.deepcopy(raw)
        event["body"] = base64.b64encode(photo.read_bytes()).decode()
        event["headers"]["Content-Length"] = str(photo.stat().st_size)
        singles.append(event)
    return batch, singles


def _by_url_against_one_call_each(photos: list[Path], delay: float) -> tuple[float, float]:
    """Seconds for the photos by URL, from an upstream that waits ``delay`` before each
    answer: one batch, and one /v1/hash call after another (both in process)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from mangum import Mangum

    from imghash import Settings
    from imghash.web import create_app

    files = {f"/{i}": p.read_bytes() for i, p in enumerate(photos)}

    class Serve(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            body = files[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Serve)
    Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    settings = Settings(allow_private_urls=True)
    batch = Mangum(create_app(["batch"], settings=settings, docs=False), lifespan="off")
    single = Mangum(create_app(["hash"], settings=settings, docs=False), lifespan="off")
    event = copy.deepcopy(json.loads((EVENTS / "batch_post_json.json").read_text()))
    event["body"] = json.dumps({"items": [{"url": site + path} for path in files]})
    event["headers"]["Content-Length"] = str(len(event["body"]))
    get = json.loads((EVENTS / "hash_get.json").read_text())

    def one_each() -> None:
        for path in files:
            call = copy.deepcopy(get)
            call["queryStringParameters"] = {"url": site + path}
            call["multiValueQueryStringParameters"] = {"url": [site + path]}
            assert single(call, _Context())["statusCode"] == 200

    def batched() -> None:
        answer = json.loads(batch(event, _Context())["body"])
        assert answer["data"]["hashed"] == len(files), answer

    medians = interleaved_medians({"batch": batched, "single": one_each}, rounds=3)
    server.shutdown()
    return medians["batch"], medians["single"]


def run(corpus: Path) -> dict[str, Any]:
    logging.getLogger("imghash.access").disabled = True  # a JSON line a call: not wanted here
    asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum asks for the current loop
    photos = sorted(p for p in (corpus / "photos").glob("*.jpg") if not p.name.startswith("large"))
    batch, singles = _events(photos)
    batch_handler, hash_handler = _load("batch"), _load("hash")

    def batched() -> None:
        answer = json.loads(batch_handler(batch, _Context())["body"])
        assert answer["data"]["hashed"] == len(photos), answer

    def one_each() -> None:
        for event in singles:
            assert hash_handler(event, _Context())["statusCode"] == 200

    medians = interleaved_medians({"batch": batched, "single": one_each}, rounds=5)
    delay = 0.05
    by_url, by_url_single = _by_url_against_one_call_each(photos, delay)
    n = len(photos)
    print("### Batch hashing through the Lambda handler (in process, median of interleaved runs)\n")
    rows = [
        [
            f"{n} corpus photos (640x480 and smaller) in base64, "
            f"{len(batch['body']) / 1e6:.1f} MB of JSON",
            f"{medians['batch'] * 1000:.0f} ms ({medians['batch'] / n * 1000:.1f} ms an image)",
            f"{medians['single'] * 1000:.0f} ms ({medians['single'] / n * 1000:.1f} ms an image)",
            f"{medians['single'] / medians['batch']:.2f}x",
        ],
        [
            f"the same {n} by URL, from a server answering each after {delay * 1000:.0f} ms",
            f"{by_url * 1000:.0f} ms ({by_url / n * 1000:.1f} ms an image)",
            f"{by_url_single * 1000:.0f} ms ({by_url_single / n * 1000:.1f} ms an image)",
            f"{by_url_single / by_url:.2f}x",
        ],
    ]
    print(table(["batch", "one batch", "one /v1/hash call each", "batch speed-up"], rows))

    worst: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        flat = Path(folder) / "flat.png"
        from PIL import Image

        Image.new("RGB", (7071, 7071), (128, 128, 128)).save(flat, "PNG")
        per_item = len(base64.b64encode(flat.read_bytes())) + len('{"image": ""}, ')
        fits = (6_000_000 - 100) // per_item
        small = corpus / "photos" / "small_Canon_40D.jpg"
        large = corpus / "photos" / "large_4032x3024.jpg"
        cases = {
            f"{fits} flat 50 MP PNGs in base64 (as many as fit in 6,000,000 bytes)": _fresh(
                flat, small, fits, by_url=False
            ),
            f"100 URLs of a 12 MP JPEG ({large.stat().st_size / 1e6:.1f} MB each)": _fresh(
                large, small, 100, by_url=True
            ),
        }
    rows = []
    for name, found in cases.items():
        counted = Counter(found["outcomes"]).items()
        outcomes = ", ".join(f"{count} {code}" for code, count in counted)
        rows.append(
            [
                name,
                f"{found['seconds']:.1f} s",
                outcomes,
                f"{found['peak_mb']:.0f} MB",
                f"{found['alone_mb']:.0f} MB",
            ]
        )
        worst[name] = found
    print(
        "\n### The worst batches within the default limits, through the handler (fresh process)\n"
    )
    print(
        table(
            ["batch", "answered in", "items", "peak MB added", "one image alone: peak MB"],
            rows,
        )
    )
    return {"in_process": medians, "by_url": (by_url, by_url_single), "worst": worst}


if __name__ == "__main__":
    from common import corpus

    run(corpus())
