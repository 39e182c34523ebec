"""Fetching an image by URL without becoming a proxy into private networks (DESIGN §6).

Every address a name resolves to must be public; the connection then goes to
the address that was checked (no second lookup, so no DNS rebinding), with the
original name as Host header and TLS server name. Redirects are followed by
hand, each one checked again. Nothing of the caller's (cookies, credentials) is
sent, and nothing of the upstream's body is ever echoed in an error.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import httpx
import idna

from ._errors import FetchBlocked, InvalidRequest, UpstreamError, UpstreamTimeout
from ._settings import Settings

__all__ = ["Fetcher", "is_public_address", "system_resolve"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

MAX_REDIRECTS = 3
CONNECT_TIMEOUT = 3.0
MAX_URL_LENGTH = 2048
ALLOWED_PORTS = frozenset({80, 443, 8080, 8443})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# Shared address space (carrier-grade NAT); not "private" to every Python version.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """The TLS settings every fetch shares, made on first use: httpx's own default (its CA
    bundle, hostname checks), which costs about 27 ms of CPU to build, per client if
    each built its own."""
    return httpx.create_ssl_context()


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: Address) -> bool:
    """Whether a URL may reach ``address``: a globally routable unicast address.

    IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64, 6to4) are
    judged by the address they embed.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if any(address in net for net in _NAT64):
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None:
            return is_public_address(address.sixtofour)
        if address.teredo is not None:
            return False
    elif address in _CGNAT:
        return False
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_link_local
        and not address.is_loopback
        and not address.is_unspecified
    )


@dataclass(frozen=True)
class _Deadline:
    """When a whole fetch must be done by, and how many seconds it was given."""

    at: float
    seconds: float

    def expired(self) -> UpstreamTimeout:
        return UpstreamTimeout(
            f"the server behind the URL did not send the image within {self.seconds:.3g} s"
        )

    def left(self) -> float:
        """Seconds left; raises :class:`UpstreamTimeout` once there are none."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left


@dataclass(frozen=True)
class _Target:
    url: str  # the URL as given (for the Host header, TLS name and redirects)
    scheme: str
    host: str
    port: int
    address: str  # the checked address we connect to


class Fetcher:
    """Fetches image bytes by URL under the settings' limits.

    ``resolve`` and ``transport`` are injectable for tests; by default the
    system resolver and httpx's own HTTP transport are used.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        resolve: Resolver = system_resolve,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.resolve = resolve
        self.transport = transport

    def fetch(self, url: str, *, timeout: float | None = None) -> bytes:
        """The body of ``url`` (after at most three checked redirects), or an ImghashError.

        The whole fetch (DNS, every hop, the body) runs in a daemon thread that is
        given up on at the deadline: httpx's timeouts are per read, and neither a
        server that keeps sending ``100 Continue`` nor a hanging ``getaddrinfo``
        may hold the caller past it. ``timeout`` shortens the fetch's time (to what
        is left of a batch's budget, say), and never lengthens it past the settings'.
        """
        seconds = self.settings.fetch_timeout
        if timeout is not None:
            seconds = max(0.0, min(seconds, timeout))
        deadline = _Deadline(time.monotonic() + seconds, seconds)
        client = httpx.Client(
            transport=self.transport,
            follow_redirects=False,
            trust_env=False,  # no proxies or netrc credentials from the environment
            verify=_tls(),
            timeout=httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT, seconds)),
            headers={"User-Agent": "imghash", "Accept": "image/*"},
        )
        outcome: list[bytes | BaseException] = []

        def work() -> None:
            try:
                outcome.append(self._follow(client, url, deadline))
            except BaseException as err:  # handed to the caller's thread below
                outcome.append(err)

        worker = threading.Thread(target=work, name="imghash-fetch", daemon=True)
        worker.start()
        worker.join(seconds)
        if not outcome:
            client.close()  # unblocks the worker's socket, if it is in one
            raise deadline.expired()
        client.close()
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _follow(self, client: httpx.Client, url: str, deadline: _Deadline) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            client.cookies.clear()  # nothing one host set may reach the next
            got = self._get(client, self._check(url, deadline), deadline)
            if isinstance(got, bytes):
                return got
            url = got
        raise UpstreamError(f"the URL redirected more than {MAX_REDIRECTS} times")

    def _check(self, url: str, deadline: _Deadline) -> _Target:
        if len(url) > MAX_URL_LENGTH:
            raise InvalidRequest(f"the URL is longer than {MAX_URL_LENGTH} characters")
        if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
            raise InvalidRequest("the URL holds spaces or control characters; percent-encode them")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise InvalidRequest("the URL is malformed") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchBlocked(f"only http and https URLs are fetched, not {scheme or 'none'!r}")
        host = parts.hostname or ""
        if not host.isascii():
            try:  # an internationalised name: its ASCII form (IDNA 2008, UTS #46) for DNS
                host = idna.encode(host, uts46=True).decode("ascii")
            except (idna.IDNAError, UnicodeError):
                raise InvalidRequest(f"the URL's host {host!r} is not a valid name") from None
        host = host.rstrip(".")
        if not host:
            raise InvalidRequest("the URL has no host")
        if parts.username is not None or parts.password is not None:
            raise FetchBlocked("URLs with credentials (user:password@) are not fetched")
        port = port or (443 if scheme == "https" else 80)
        if port not in ALLOWED_PORTS and not self.settings.allow_private_urls:
            allowed = ", ".join(str(p) for p in sorted(ALLOWED_PORTS))
            raise FetchBlocked(f"port {port} is not allowed; use one of {allowed}")
        address = self._checked_address(host, port, deadline)
        return _Target(url, scheme, host, port, address)

    def _checked_address(self, host: str, port: int, deadline: _Deadline) -> str:
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            found = [literal]
        else:
            try:
                deadline.left()
                answer = self.resolve(host, port)  # bounded by the fetch's own deadline
                found = [ipaddress.ip_address(a.split("%")[0]) for a in answer]
            except (OSError, UnicodeError, ValueError):
                raise UpstreamError(f"the host {host!r} could not be resolved") from None
        if not found:
            raise UpstreamError(f"the host {host!r} could not be resolved")
        if not self.settings.allow_private_urls:
            blocked = [a for a in found if not is_public_address(a)]
            if blocked:
                raise FetchBlocked(
                    f"the host {host!r} resolves to a non-public address ({blocked[0]}); "
                    "only public addresses are fetched"
                )
        return str(found[0])

    def _get(self, client: httpx.Client, target: _Target, deadline: _Deadline) -> str | bytes:
        """Send the request to the checked address: a redirect's URL (str) or the body."""
        ip = f"[{target.address}]" if ":" in target.address else target.address
        parts = urlsplit(target.url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        default = 443 if target.scheme == "https" else 80
        name = f"[{target.host}]" if ":" in target.host else target.host
        host_header = name if target.port == default else f"{name}:{target.port}"
        left = deadline.left()
        connect = min(CONNECT_TIMEOUT, left)
        try:
            request = client.build_request(
                "GET",
                f"{target.scheme}://{ip}:{target.port}{path}",
                headers={"Host": host_header},
                extensions={"sni_hostname": target.host},
                timeout=httpx.Timeout(left, connect=connect),
            )
        except httpx.InvalidURL:
            raise InvalidRequest("the URL is malformed") from None
        try:
            response = client.send(request, stream=True)
        except httpx.ConnectTimeout:
            raise UpstreamTimeout(
                f"the server behind the URL did not accept a connection within {connect:.3g} s"
            ) from None
        except httpx.TimeoutException:
            raise deadline.expired() from None
        except httpx.HTTPError as err:
            raise UpstreamError(
                f"could not connect to the server behind the URL ({type(err).__name__})"
            ) from None
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                try:
                    return urljoin(target.url, response.headers["location"])
                except ValueError:
                    raise UpstreamError(
                        "the server behind the URL sent a malformed redirect"
                    ) from None
            if not 200 <= response.status_code < 300:
                raise UpstreamError(
                    f"the server behind the URL answered HTTP {response.status_code}"
                )
            return self._read(response, deadline)
        finally:
            response.close()

    def _read(self, response: httpx.Response, deadline: _Deadline) -> bytes:
        limit = self.settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise UpstreamError(
                f"the server behind the URL sent {int(declared):,} bytes; the limit is {limit:,}"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise UpstreamError(
                        f"the server behind the URL sent more than {limit:,} bytes, the limit"
                    )
                deadline.left()
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise deadline.expired() from None
        except httpx.HTTPError as err:
            raise UpstreamError(
                f"the server behind the URL broke off the transfer ({type(err).__name__})"
            ) from None
        return b"".join(chunks)
