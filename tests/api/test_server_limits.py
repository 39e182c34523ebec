"""The local server's limits against hostile clients, each driven by a raw socket client
while a normal request runs in parallel and must succeed (issue 10, item 4)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from imghash import Settings
from tests.helpers import encode, photo_like
from tests.servers import api_server, free_port

#: Short timeouts, so that the tests wait seconds, not the defaults' 10 and 20.
LIMITS = {
    "IMGHASH_HEADER_TIMEOUT": "2",
    "IMGHASH_BODY_TIMEOUT": "2",
    "IMGHASH_KEEP_ALIVE": "2",
    "IMGHASH_MAX_CONCURRENCY": "4",
    "IMGHASH_MAX_INFLIGHT_BYTES": "3000000",
    "IMGHASH_MAX_BYTES": "2000000",
}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    with api_server(LIMITS) as found:
        yield found


@pytest.fixture(scope="module")
def address(server: tuple[str, list[str]]) -> tuple[str, int]:
    host, port = server[0].removeprefix("http://").split(":")
    return host, int(port)


_OPEN: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def connect(address: tuple[str, int]) -> socket.socket:
    """A raw client connection, closed after the test."""
    sock = socket.create_connection(address, timeout=40)
    _OPEN.append(sock)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def envelope(raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body)


def assert_error(raw: bytes, status: int, code: str) -> dict[str, Any]:
    got, headers, body = envelope(raw)
    assert got == status, raw[:300]
    assert body["success"] is False
    assert body["data"] is None
    assert body["error"]["code"] == code
    assert body["meta"]["request_id"] == headers["x-request-id"]
    return body


def in_parallel(base: str, hostile: Callable[[], None]) -> None:
    """Run ``hostile`` while normal requests hash an image, every one of which succeeds."""
    done = threading.Event()
    answers: list[int] = []

    def normal() -> None:
        image = encode(photo_like(), "PNG")
        with httpx.Client(timeout=30) as client:
            while not done.is_set() or not answers:
                response = client.post(
                    f"{base}/v1/hash", content=image, headers={"content-type": "image/png"}
                )
                answers.append(response.status_code)
                time.sleep(0.05)

    thread = threading.Thread(target=normal)
    thread.start()
    try:
        hostile()
    finally:
        done.set()
        thread.join(timeout=60)
    assert answers
    assert set(answers) == {200}, answers


def test_a_slowloris_is_answered_408_and_closed(
    server: tuple[str, list[str]], address: tuple[str, int]
) -> None:
    def hostile() -> None:
        socks = [connect(address) for _ in range(30)]
        started = time.monotonic()
        for sock in socks:
            sock.sendall(b"GET /v1/meta HTTP/1.1\r\nHost: x\r\n")
        for _ in range(4):  # a header line now and then, never the blank line
            time.sleep(0.5)
            for sock in socks:
                sock.sendall(b"X-a: b\r\n")
        for sock in socks:
            assert_error(read_all(sock), 408, "request_timeout")
            sock.close()
        assert time.monotonic() - started < 30

    in_parallel(server[0], hostile)


def test_a_silent_connection_is_closed(address: tuple[str, int]) -> None:
    sock = connect(address)
    started = time.monotonic()
    raw = read_all(sock)  # nothing sent at all
    assert time.monotonic() - started < 30
    assert_error(raw, 408, "request_timeout")


def test_a_body_shorter_than_its_content_length(
    server: tuple[str, list[str]], address: tuple[str, int]
) -> None:
    def hostile() -> None:
        sock = connect(address)
        sock.sendall(
            b"POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            b"Content-Length: 100000\r\n\r\n0123456789"
        )
        started = time.monotonic()
        body = assert_error(read_all(sock), 408, "request_timeout")
        assert "body" in body["error"]["message"]
        assert time.monotonic() - started < 30

    in_parallel(server[0], hostile)
    time.sleep(0.5)
    line = [json.loads(x) for x in server[1] if '"request_timeout"' in x][-1]
    assert (line["status"], line["route"]) == (408, "/v1/hash")  # logged as such, no 500


def test_a_body_trickled_too_slowly(address: tuple[str, int]) -> None:
    sock = connect(address)
    sock.sendall(
        b"POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    started = time.monotonic()
    with pytest.raises((BrokenPipeError, ConnectionResetError)):  # noqa: PT012
        for _ in range(100):  # a byte every 0.1 s: all of it would take 100 s
            sock.sendall(b"x")
            time.sleep(0.1)
    assert time.monotonic() - started < 30
    assert_error(read_all(sock), 408, "request_timeout")


def test_idle_keep_alive_connections_are_closed(address: tuple[str, int]) -> None:
    socks = [connect(address) for _ in range(50)]
    for sock in socks:
        sock.sendall(b"GET /v1/meta HTTP/1.1\r\nHost: x\r\n\r\n")
    started = time.monotonic()
    for sock in socks:
        status, _headers, _ = envelope(read_all(sock).split(b"HTTP/1.1 408")[0])
        assert status == 200
    assert time.monotonic() - started < 30


def test_huge_and_numerous_headers_are_refused(
    server: tuple[str, list[str]], address: tuple[str, int]
) -> None:
    def hostile() -> None:
        sock = connect(address)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it stops reading
            sock.sendall(b"GET /v1/meta HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000)
        assert_error(read_all(sock), 431, "too_large")
        sock = connect(address)
        lines = b"".join(b"X-%d: y\r\n" % n for n in range(100_000))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"GET /v1/meta HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n")
        assert_error(read_all(sock), 431, "too_large")
        sock = connect(address)  # many small header lines, under the byte limit
        lines = b"".join(b"X-%d: y\r\n" % n for n in range(500))
        sock.sendall(b"GET /v1/meta HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n")
        body = assert_error(read_all(sock), 431, "too_large")
        assert "header lines" in body["error"]["message"]

    in_parallel(server[0], hostile)


def test_a_100_kb_url_gets_the_envelope(address: tuple[str, int]) -> None:
    sock = connect(address)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(b"GET /v1/hash?image=" + b"A" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_error(read_all(sock), 414, "too_large")


def test_a_body_longer_than_its_content_length(address: tuple[str, int]) -> None:
    sock = connect(address)
    body = json.dumps({"image": "not base64 at all"}).encode()
    sock.sendall(
        b"POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body + b"\x00\x01 and more bytes\r\n\r\n"
    )
    first, second = (b"HTTP/1.1 " + part for part in read_all(sock).split(b"HTTP/1.1 ")[1:])
    body = assert_error(first, 400, "invalid_request")  # the request itself: bad base64
    assert "base64" in body["error"]["message"]
    body = assert_error(second, 400, "invalid_request")  # then the excess, and the close
    assert "not valid HTTP" in body["error"]["message"]


def test_json_nested_100000_deep_is_400(server: tuple[str, list[str]]) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = httpx.post(
        f"{server[0]}/v1/compare",
        content=b'{"a": ' + deep + b"}",
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_concurrency_cap_answers_503_in_the_envelope(
    server: tuple[str, list[str]], address: tuple[str, int]
) -> None:
    # Four requests whose bodies never finish hold the four places; a fifth is refused.
    holders = []
    for _ in range(4):
        sock = connect(address)
        sock.sendall(
            b"POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            b"Content-Length: 10\r\n\r\n12"
        )
        holders.append(sock)
    time.sleep(0.3)
    response = httpx.get(f"{server[0]}/v1/meta", timeout=10)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "overloaded"
    assert response.headers["retry-after"] == "1"
    for sock in holders:
        assert_error(read_all(sock), 408, "request_timeout")
        sock.close()
    assert httpx.get(f"{server[0]}/v1/meta", timeout=10).status_code == 200  # places freed


def test_request_bodies_in_flight_are_capped(
    server: tuple[str, list[str]], address: tuple[str, int]
) -> None:
    # One body of 2.5 MB is being sent; a second one of 1 MB would pass the 3 MB cap.
    sock = connect(address)
    sock.sendall(
        b"POST /v1/compare HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 2500000\r\n\r\n{"image1": "'
    )
    time.sleep(0.3)
    response = httpx.post(
        f"{server[0]}/v1/compare",
        content=b" " * 1_000_000,
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 503
    assert "bytes of request bodies" in response.json()["error"]["message"]
    small = encode(photo_like(), "PNG")
    assert (
        httpx.post(
            f"{server[0]}/v1/hash", content=small, headers={"content-type": "image/png"}
        ).status_code
        == 200
    )
    assert_error(read_all(sock), 408, "request_timeout")


def test_a_client_leaving_mid_body_is_logged_as_such(
    server: tuple[str, list[str]], address: tuple[str, int]
) -> None:
    sock = connect(address)
    sock.sendall(
        b"POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        b"Content-Length: 5000\r\n\r\n" + b"x" * 1000
    )
    time.sleep(0.3)
    sock.close()
    time.sleep(0.5)
    lines = [json.loads(x) for x in server[1] if '"client_disconnected"' in x]
    assert lines, "".join(server[1][-5:])
    assert lines[-1]["status"] == 499
    assert not any("Traceback" in x for x in server[1])


@pytest.mark.parametrize("path", ["/v1/hash", "/v1/compare", "/v1/search"])
def test_allow_names_every_method_of_the_route(server: tuple[str, list[str]], path: str) -> None:
    response = httpx.delete(f"{server[0]}{path}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}


def test_the_defaults_close_a_slow_client_within_30_seconds() -> None:
    defaults = Settings()
    assert defaults.header_timeout + defaults.body_timeout <= 30
    assert defaults.max_inflight_bytes >= 2 * -(-defaults.max_bytes * 4 // 3) + 64 * 1024


def test_a_busy_port_is_named_before_claiming_to_serve() -> None:
    import subprocess
    import sys

    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        done = subprocess.run(
            [sys.executable, "-m", "imghash.web", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0
    assert "serving" not in done.stdout
    assert f"port {port} on 127.0.0.1 is busy" in done.stderr
    assert f"make serve PORT={port + 1}" in done.stderr
