"""Typed settings, read from the environment in this one place (DESIGN §7)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from ._errors import InvalidRequest
from ._threads import MAX_REQUESTED_THREADS

__all__ = ["Settings", "default_index_path", "get_settings"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _int(
    environ: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise InvalidRequest(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise InvalidRequest(f"{name}={value} is below the minimum of {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidRequest(f"{name}={value} is above the maximum of {maximum}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidRequest(f"{name}={raw!r} is not a number") from None
    if not value >= minimum:
        raise InvalidRequest(f"{name}={value} is below the minimum of {minimum}")
    return value


def _bool(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InvalidRequest(f"{name}={raw!r} must be 1 or 0")


#: Substring counts a PostgreSQL index accepts: substrings of 8 to 22 bits, whose probe
#: sets stay small enough to enumerate.
SUBSTRINGS = range(3, 9)


def _substrings(environ: Mapping[str, str]) -> int | None:
    name = "IMGHASH_DATABASE_SUBSTRINGS"
    if not environ.get(name, "").strip():
        return None
    value = _int(environ, name, 4, 1)
    if value not in SUBSTRINGS:
        raise InvalidRequest(f"{name}={value} is outside {SUBSTRINGS.start}..{SUBSTRINGS.stop - 1}")
    return value


@dataclass(frozen=True)
class Settings:
    """Limits and switches of the service; every field has a documented default.

    Build one with :meth:`from_environ` (tests pass a plain dict) or directly.
    """

    #: Largest encoded input accepted, in bytes (``IMGHASH_MAX_BYTES``).
    max_bytes: int = 20_000_000
    #: Largest decoded image, in pixels, checked from the header (``IMGHASH_MAX_PIXELS``).
    max_pixels: int = 50_000_000
    #: Most frames an animation may declare; only the first is hashed (``IMGHASH_MAX_FRAMES``).
    max_frames: int = 1000
    #: Seconds allowed for a whole URL fetch (``IMGHASH_FETCH_TIMEOUT``).
    fetch_timeout: float = 10.0
    #: Largest body of a batch request (``IMGHASH_MAX_BATCH_BYTES``): as JSON; a multipart
    #: batch gets three quarters of it, as API Gateway hands Lambda its bytes in base64.
    #: The default keeps either within Lambda's 6 MiB request payload, event included.
    max_batch_bytes: int = 6_000_000
    #: Seconds from a batch's start in which its URLs may be fetched
    #: (``IMGHASH_BATCH_FETCH_SECONDS``); a URL not fetched by then is not fetched at all.
    batch_fetch_seconds: float = 15.0
    #: Seconds from a batch's start after which none of its items starts hashing
    #: (``IMGHASH_BATCH_SECONDS``): with the item then hashing, the answer leaves in time
    #: for API Gateway's 29 s.
    batch_seconds: float = 24.0
    #: Let URLs reach private addresses: for local testing only (``IMGHASH_ALLOW_PRIVATE_URLS``).
    allow_private_urls: bool = False
    #: Accepted ``x-api-key`` values; empty means no key check (``IMGHASH_API_KEYS``).
    api_keys: frozenset[str] = field(default_factory=frozenset)
    #: Where the embedded index is (``IMGHASH_DB``): a SQLite file's path. Empty means
    #: the default, ``index.db`` in the user's data directory (see :attr:`index_location`).
    db_path: str = ""
    #: The DynamoDB table of the index in AWS; empty means the SQLite file (``IMGHASH_TABLE``).
    table_name: str = ""
    #: Seconds a search snapshot of a DynamoDB index is reused (``IMGHASH_INDEX_TTL``).
    index_ttl: float = 60.0
    #: Only keys under this prefix are indexed (``IMGHASH_INDEX_PREFIX``).
    index_prefix: str = ""
    #: A PostgreSQL index, ``postgresql://...``; wins over ``IMGHASH_DB``
    #: (``IMGHASH_DATABASE_URL``).
    database_url: str = ""
    #: Substrings each 64-bit hash is cut into for multi-index search in SQL: 4 (16 bits)
    #: or 3 (21/22 bits, better past about 5x10^7 rows). None: what the database holds,
    #: 4 for a new one; a different value needs ``imghash rebuild``
    #: (``IMGHASH_DATABASE_SUBSTRINGS``).
    database_substrings: int | None = None
    #: Most connections the local PostgreSQL pool opens (``IMGHASH_DATABASE_POOL``).
    database_pool: int = 4
    #: Aurora through the RDS Data API: the cluster's ARN (``IMGHASH_AURORA_CLUSTER_ARN``),
    #: the secret of the database user (``IMGHASH_AURORA_SECRET_ARN``) and the database
    #: (``IMGHASH_AURORA_DATABASE``).
    aurora_cluster_arn: str = ""
    aurora_secret_arn: str = ""
    aurora_database: str = "imghash"
    #: Threads one image's JPEG decode and pixel passes may share (``IMGHASH_THREADS``, at
    #: most 32). 0, the default: one per core this process may run on, up to 4, and one in
    #: a worker process of a pool, whose siblings have the other cores (see ``_threads``).
    threads: int = 0
    #: Running as a Lambda function (``AWS_LAMBDA_FUNCTION_NAME`` set by the runtime): one
    #: database connection kept across invocations instead of a pool.
    in_lambda: bool = False

    #: The origin browsers may call the API from, or ``*``; empty means no CORS headers
    #: (``IMGHASH_CORS_ORIGIN``; the SAM template's CorsOrigin).
    cors_origin: str = ""
    # The local server's limits (``make serve``; in AWS, API Gateway sets its own).
    #: Bytes of a request's line and headers together (``IMGHASH_MAX_HEADER_BYTES``); 431.
    max_header_bytes: int = 65_536
    #: Header lines in a request (``IMGHASH_MAX_HEADERS``); 431.
    max_headers: int = 100
    #: Bytes of a request's target, path and query (``IMGHASH_MAX_URL_BYTES``); 414.
    max_url_bytes: int = 32_768
    #: Seconds for a request's headers to arrive, from its first byte or the connection's
    #: opening (``IMGHASH_HEADER_TIMEOUT``); then 408 and the connection is closed.
    header_timeout: float = 10.0
    #: Seconds for a request's whole body to arrive once its headers have
    #: (``IMGHASH_BODY_TIMEOUT``); then 408 and the connection is closed.
    body_timeout: float = 20.0
    #: Seconds an idle keep-alive connection is kept open (``IMGHASH_KEEP_ALIVE``).
    keep_alive: float = 5.0
    #: Requests a server process handles at once (``IMGHASH_MAX_CONCURRENCY``); then 503.
    max_concurrency: int = 32
    #: Bytes of request bodies a server process holds at once (``IMGHASH_MAX_INFLIGHT_BYTES``);
    #: then 503. A single request is always let in when nothing else is in flight.
    max_inflight_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``IMGHASH_*`` variable; unset or empty ones take the default."""
        env = os.environ if environ is None else environ
        keys = frozenset(k.strip() for k in env.get("IMGHASH_API_KEYS", "").split(",") if k.strip())
        return cls(
            max_bytes=_int(env, "IMGHASH_MAX_BYTES", cls.max_bytes, 1),
            max_pixels=_int(env, "IMGHASH_MAX_PIXELS", cls.max_pixels, 1),
            max_frames=_int(env, "IMGHASH_MAX_FRAMES", cls.max_frames, 1),
            fetch_timeout=_float(env, "IMGHASH_FETCH_TIMEOUT", cls.fetch_timeout, 0.1),
            max_batch_bytes=_int(env, "IMGHASH_MAX_BATCH_BYTES", cls.max_batch_bytes, 1024),
            batch_fetch_seconds=_float(
                env, "IMGHASH_BATCH_FETCH_SECONDS", cls.batch_fetch_seconds, 0.0
            ),
            batch_seconds=_float(env, "IMGHASH_BATCH_SECONDS", cls.batch_seconds, 0.0),
            allow_private_urls=_bool(env, "IMGHASH_ALLOW_PRIVATE_URLS"),
            api_keys=keys,
            db_path=os.path.expanduser(env.get("IMGHASH_DB", "").strip()),
            table_name=env.get("IMGHASH_TABLE", "").strip(),
            index_ttl=_float(env, "IMGHASH_INDEX_TTL", cls.index_ttl, 0.0),
            index_prefix=env.get("IMGHASH_INDEX_PREFIX", ""),
            database_url=env.get("IMGHASH_DATABASE_URL", "").strip(),
            database_substrings=_substrings(env),
            database_pool=_int(env, "IMGHASH_DATABASE_POOL", cls.database_pool, 1),
            aurora_cluster_arn=env.get("IMGHASH_AURORA_CLUSTER_ARN", "").strip(),
            aurora_secret_arn=env.get("IMGHASH_AURORA_SECRET_ARN", "").strip(),
            aurora_database=env.get("IMGHASH_AURORA_DATABASE", "").strip() or cls.aurora_database,
            threads=_int(env, "IMGHASH_THREADS", cls.threads, 0, MAX_REQUESTED_THREADS),
            in_lambda=bool(env.get("AWS_LAMBDA_FUNCTION_NAME", "").strip()),
            cors_origin=env.get("IMGHASH_CORS_ORIGIN", "").strip(),
            max_header_bytes=_int(env, "IMGHASH_MAX_HEADER_BYTES", cls.max_header_bytes, 1024),
            max_headers=_int(env, "IMGHASH_MAX_HEADERS", cls.max_headers, 8),
            max_url_bytes=_int(env, "IMGHASH_MAX_URL_BYTES", cls.max_url_bytes, 256),
            header_timeout=_float(env, "IMGHASH_HEADER_TIMEOUT", cls.header_timeout, 0.1),
            body_timeout=_float(env, "IMGHASH_BODY_TIMEOUT", cls.body_timeout, 0.1),
            keep_alive=_float(env, "IMGHASH_KEEP_ALIVE", cls.keep_alive, 0.1),
            max_concurrency=_int(env, "IMGHASH_MAX_CONCURRENCY", cls.max_concurrency, 1),
            max_inflight_bytes=_int(
                env, "IMGHASH_MAX_INFLIGHT_BYTES", cls.max_inflight_bytes, 1024
            ),
        )

    @property
    def index_location(self) -> str:
        """Where the index is: ``IMGHASH_DATABASE_URL`` (PostgreSQL), else ``IMGHASH_DB``,
        else :func:`default_index_path`.

        The CLI and ``make serve`` share it, wherever they are started from.
        """
        return self.database_url or self.db_path or default_index_path()


def default_index_path() -> str:
    """``index.db`` in the user's data directory (``~/.local/share/imghash`` on Linux).

    platformdirs is imported here, on first use: a Lambda function (whose index is a
    table) never needs it.
    """
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("imghash", appauthor=False), "index.db")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from ``os.environ`` once, on first use."""
    return Settings.from_environ()
