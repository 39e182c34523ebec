"""Real local servers for the tests: the imghash API under uvicorn, and small upstreams."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_server(
    env: dict[str, str] | None = None, *, python: str = sys.executable, cwd: str | None = None
) -> Iterator[tuple[str, list[str]]]:
    """``python -m imghash.web`` on a free port; yields its URL and its output lines so far.

    ``python`` is the interpreter to serve with (another virtual environment's, say).
    """
    port = free_port()
    child_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [python, "-m", "imghash.web", "--host", "127.0.0.1", "--port", str(port)],
        env=child_env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the API server did not start:\n" + "".join(lines)) from None
                time.sleep(0.1)
        yield url, lines
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=5)
        process.stdout.close()  # type: ignore[union-attr]


Handler = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def upstream(routes: dict[str, Handler]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 answering ``routes`` (path -> handler)."""

    class Handle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            handler = routes.get(self.path.split("?")[0])
            if handler is None:
                self.send_error(404)
            else:
                handler(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send_bytes(body: bytes, content_type: str = "image/jpeg", status: int = 200) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            h.wfile.write(body)  # the client may have given up first, as some tests intend

    return handle


def redirect_to(location: str) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handle
