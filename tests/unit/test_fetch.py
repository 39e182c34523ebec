"""The URL fetcher against DESIGN §6: every private spelling, rebinding, redirects, limits."""

from __future__ import annotations

import ipaddress
import time
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from imghash import FetchBlocked, InvalidRequest, Settings, UpstreamError, UpstreamTimeout
from imghash._fetch import Fetcher, is_public_address, system_resolve
from tests.servers import redirect_to, send_bytes, upstream

PUBLIC = "93.184.215.14"

BLOCKED_ADDRESSES = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.100.1",  # the Lambda runtime API
    "100.64.0.1",
    "100.127.255.254",  # CGNAT
    "0.0.0.0",
    "255.255.255.255",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "192.0.0.8",
    "198.18.0.1",
    "192.0.2.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "64:ff9b:1::a9fe:a9fe",
    "2002:7f00:1::",
    "2002:c0a8:101::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "fd00:ec2::254",
]


@pytest.mark.parametrize("address", BLOCKED_ADDRESSES)
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


class Recorder:
    """A fake resolver and transport: records what was looked up and where we connected."""

    def __init__(
        self,
        answers: list[list[str]],
        body: bytes = b"image-bytes",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.answers = answers
        self.lookups: list[str] = []
        self.requests: list[httpx.Request] = []
        self.body, self.status, self.headers = body, status, headers or {}

    def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups) - 1, len(self.answers) - 1)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, headers=self.headers, content=self.body)

    def fetcher(self, settings: Settings | None = None) -> Fetcher:
        return Fetcher(
            settings or Settings(), resolve=self.resolve, transport=httpx.MockTransport(self.handle)
        )


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "100.64.1.1",
    ],
)
def test_names_resolving_to_private_addresses_are_refused(address: str) -> None:
    fake = Recorder([[address]])
    with pytest.raises(FetchBlocked, match="non-public address") as info:
        fake.fetcher().fetch("http://images.example.com/a.jpg")
    assert info.value.code == "url_not_allowed"
    assert fake.requests == []


def test_a_mix_of_public_and_private_answers_is_refused() -> None:
    fake = Recorder([[PUBLIC, "10.0.0.5"]])
    with pytest.raises(FetchBlocked):
        fake.fetcher().fetch("https://images.example.com/a.jpg")
    assert fake.requests == []


def test_the_checked_address_is_the_one_connected_to() -> None:
    # A rebinding name: public on the first lookup, loopback on any later one.
    fake = Recorder([[PUBLIC], ["127.0.0.1"]])
    assert fake.fetcher().fetch("https://images.example.com/a.jpg?x=1") == b"image-bytes"
    assert fake.lookups == ["images.example.com"]
    [request] = fake.requests
    assert request.url.host == PUBLIC
    assert request.url.query == b"x=1"
    assert request.headers["host"] == "images.example.com"
    assert request.extensions["sni_hostname"] == "images.example.com"


def test_fetches_share_one_tls_context_with_certificate_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ssl

    given: list[object] = []

    class Spy(httpx.Client):
        def __init__(self, **kwargs: object) -> None:
            given.append(kwargs.get("verify"))
            super().__init__(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "Client", Spy)
    fake = Recorder([[PUBLIC]])
    for _ in range(2):
        fake.fetcher().fetch("https://images.example.com/a.jpg")
    first, second = given
    assert first is second  # built once: a context costs tens of ms of CPU to build
    assert isinstance(first, ssl.SSLContext)
    assert first.verify_mode == ssl.CERT_REQUIRED
    assert first.check_hostname is True


def test_no_cookies_or_credentials_are_sent() -> None:
    fake = Recorder([[PUBLIC]])
    fake.fetcher().fetch("http://images.example.com/a.jpg")
    sent = {k.lower() for k in fake.requests[0].headers}
    assert not sent & {"cookie", "authorization", "x-api-key"}
    with pytest.raises(FetchBlocked, match="credentials"):
        fake.fetcher().fetch("http://user:secret@images.example.com/a.jpg")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.jpg",
        "file:///etc/passwd",
        "gopher://example.com/",
        "data:,x",
        "javascript:alert(1)",
        "//example.com/a.jpg",
    ],
)
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(FetchBlocked, match="only http and https"):
        Recorder([[PUBLIC]]).fetcher().fetch(url)


def test_unusual_ports_are_refused() -> None:
    with pytest.raises(FetchBlocked, match="port 6379"):
        Recorder([[PUBLIC]]).fetcher().fetch("http://example.com:6379/")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://[::ffff:7f00:1]/",
        "http://localhost/",
        "http://[::1]:80/",
        "http://0/",
    ],
)
def test_odd_spellings_of_loopback_with_the_system_resolver(url: str) -> None:
    with pytest.raises(FetchBlocked):
        Fetcher(Settings(), resolve=system_resolve).fetch(url)


def test_redirect_to_a_private_address_is_refused() -> None:
    fake = Recorder(
        [[PUBLIC], ["10.0.0.1"]],
        status=302,
        headers={"location": "http://internal.example.com/secret"},
    )
    with pytest.raises(FetchBlocked, match=r"internal\.example\.com"):
        fake.fetcher().fetch("http://images.example.com/a.jpg")
    assert len(fake.requests) == 1


def test_too_many_redirects() -> None:
    fake = Recorder([[PUBLIC]], status=301, headers={"location": "/again"})
    with pytest.raises(UpstreamError, match="more than 3 times"):
        fake.fetcher().fetch("http://images.example.com/a.jpg")
    assert len(fake.requests) == 4


def test_non_2xx_does_not_echo_the_body() -> None:
    fake = Recorder([[PUBLIC]], status=500, body=b"SECRET STACK TRACE")
    with pytest.raises(UpstreamError) as info:
        fake.fetcher().fetch("http://images.example.com/a.jpg")
    assert "HTTP 500" in info.value.message
    assert "SECRET" not in info.value.message
    assert info.value.http_status == 502


def test_declared_oversize_is_refused_before_reading() -> None:
    fake = Recorder([[PUBLIC]], body=b"x" * 10, headers={"content-length": "999999"})
    with pytest.raises(UpstreamError, match=r"999,999 bytes; the limit is 100"):
        fake.fetcher(Settings(max_bytes=100)).fetch("http://images.example.com/a.jpg")


def test_resolution_failure_is_an_upstream_error() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(UpstreamError, match="could not be resolved"):
        Fetcher(Settings(), resolve=fail).fetch("http://nowhere.invalid/a.jpg")


# Real local upstreams, reached only with the local-testing switch on.
LOCAL = Settings(allow_private_urls=True, max_bytes=10_000, fetch_timeout=1.0)


def test_real_redirect_then_body() -> None:
    with upstream({"/img": send_bytes(b"pixels"), "/go": redirect_to("/img")}) as base:
        assert Fetcher(LOCAL).fetch(base + "/go") == b"pixels"


def test_private_addresses_need_the_switch() -> None:
    with upstream({"/img": send_bytes(b"pixels")}) as base, pytest.raises(FetchBlocked):
        Fetcher(Settings()).fetch(base + "/img")


def test_oversized_stream_stops_at_the_limit() -> None:
    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()  # no Content-Length: the body runs until the connection closes
        try:
            for _ in range(1000):
                h.wfile.write(b"x" * 4096)
        except (BrokenPipeError, ConnectionResetError):
            pass

    with upstream({"/big": endless}) as base, pytest.raises(UpstreamError, match="more than"):
        Fetcher(LOCAL).fetch(base + "/big")


def test_slow_upstream_times_out() -> None:
    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(3)
        send_bytes(b"late")(h)

    with upstream({"/slow": slow}) as base:
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout) as info:
            Fetcher(LOCAL).fetch(base + "/slow")
        assert time.monotonic() - started < 2.5
    assert info.value.http_status == 504


def test_a_shorter_timeout_cuts_the_fetch_and_a_longer_one_does_not_extend_it() -> None:
    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(3)
        send_bytes(b"late")(h)

    with upstream({"/slow": slow}) as base:
        with pytest.raises(UpstreamTimeout) as shorter:
            Fetcher(LOCAL).fetch(base + "/slow", timeout=0.25)
        with pytest.raises(UpstreamTimeout) as longer:
            Fetcher(LOCAL).fetch(base + "/slow", timeout=60)
    assert shorter.value.message.endswith("did not send the image within 0.25 s")
    assert longer.value.message.endswith("did not send the image within 1 s")  # LOCAL's


def test_trickling_upstream_hits_the_total_deadline() -> None:
    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "5000")
        h.end_headers()
        try:
            for _ in range(50):
                h.wfile.write(b"x" * 10)
                h.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    with upstream({"/drip": trickle}) as base:
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout):
            Fetcher(LOCAL).fetch(base + "/drip")
        assert time.monotonic() - started < 2.5


def test_redirect_hops_share_one_deadline() -> None:
    def slow_redirect(h: BaseHTTPRequestHandler) -> None:
        time.sleep(0.4)
        redirect_to("/slow")(h)

    with upstream({"/slow": slow_redirect}) as base:
        started = time.monotonic()
        with pytest.raises((UpstreamTimeout, UpstreamError)):
            Fetcher(LOCAL).fetch(base + "/slow")  # 4 hops of 0.4 s against a 1 s budget
        assert time.monotonic() - started < 1.5


def test_a_hanging_resolver_is_cut_at_the_deadline() -> None:
    def hang(host: str, port: int) -> list[str]:
        time.sleep(3)
        return [PUBLIC]

    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        Fetcher(Settings(fetch_timeout=0.5), resolve=hang).fetch("http://slow-dns.example/a.jpg")
    assert time.monotonic() - started < 1.5


def test_cookies_do_not_cross_redirects() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(
                302,
                headers={
                    "location": "http://other.example/b.jpg",
                    "set-cookie": "session=secret; Path=/",
                },
            )
        return httpx.Response(200, content=b"image")

    fetcher = Fetcher(
        Settings(), resolve=lambda host, port: [PUBLIC], transport=httpx.MockTransport(handle)
    )
    assert fetcher.fetch("http://first.example/a.jpg") == b"image"
    assert "cookie" not in {k.lower() for k in seen[1].headers}


def test_international_names_are_sent_as_punycode() -> None:
    fake = Recorder([[PUBLIC]])
    fake.fetcher().fetch("https://bücher.example/a.jpg")
    assert fake.lookups == ["xn--bcher-kva.example"]
    assert fake.requests[0].headers["host"] == "xn--bcher-kva.example"


def test_ipv6_literal_host_header_is_bracketed() -> None:
    fake = Recorder([[]])
    fake.fetcher().fetch("http://[2606:4700:4700::1111]/a.jpg")
    assert fake.requests[0].headers["host"] == "[2606:4700:4700::1111]"


def test_a_server_that_keeps_sending_continue_is_cut_at_the_deadline() -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            while not stop.is_set():
                try:
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                except OSError:
                    return
                time.sleep(0.2)

    threading.Thread(target=serve, daemon=True).start()
    port = listener.getsockname()[1]
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamTimeout):
            Fetcher(LOCAL).fetch(f"http://127.0.0.1:{port}/a.jpg")
        assert time.monotonic() - started < 1.6
    finally:
        stop.set()
        listener.close()


@pytest.mark.parametrize("url", ["http://example.com/a\x01.jpg", "http://example.com/a b.jpg"])
def test_control_characters_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest, match="control characters"):
        Recorder([[PUBLIC]]).fetcher().fetch(url)


def test_a_malformed_redirect_is_an_upstream_error() -> None:
    fake = Recorder([[PUBLIC]], status=302, headers={"location": "http://[x/"})
    with pytest.raises(UpstreamError, match="malformed redirect"):
        fake.fetcher().fetch("http://images.example.com/a.jpg")


def test_uts46_names_and_trailing_dots() -> None:
    fake = Recorder([[PUBLIC]])
    fake.fetcher().fetch("https://faß.example./a.jpg")
    assert fake.lookups == ["xn--fa-hia.example"]
    assert fake.requests[0].extensions["sni_hostname"] == "xn--fa-hia.example"
