"""Statements to PostgreSQL over its wire protocol with psycopg 3: a pool, or one connection.

Locally (the server, the CLI) a small pool serves the web server's worker threads. In
a Lambda function one connection is made on first use and kept across invocations (a
pool's threads would be frozen between them); a connection found broken is made again
and the statement retried once, which every statement of the store allows (writes are
conditional, reads have no effects).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from .._errors import IndexUnavailable
from ._postgres import Param, Result, masked

__all__ = ["Psycopg"]

# ':name' (not '::type', not inside a word) becomes psycopg's '%(name)s'.
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=64)
def psycopg_sql(sql: str) -> str:
    """A statement written with ``:name`` parameters, in psycopg's ``%(name)s`` form."""
    return _PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise IndexUnavailable(
            "a PostgreSQL index needs psycopg: pip install 'imghash-service[postgres]'"
        ) from None
    return psycopg


class Psycopg:
    """Runs each statement in autocommit mode (one statement, one transaction)."""

    def __init__(self, url: str, *, pool_size: int = 4, reuse_one: bool = False) -> None:
        self.url = url
        self.pool_size = pool_size
        self.reuse_one = reuse_one
        self._lock = threading.Lock()
        self._pool: Any = None
        self._connection: Any = None

    def run(self, sql: str, params: Mapping[str, Param] | None = None) -> Result:
        psycopg = _psycopg()
        text = psycopg_sql(sql) if params is not None else sql
        used: list[Any] = []
        try:
            return self._execute(text, params, used)
        except psycopg.OperationalError as err:
            if not used or not (used[0].closed or used[0].broken):
                raise IndexUnavailable(
                    f"the PostgreSQL index at {masked(self.url)} failed: {err}"
                ) from err
        try:  # the connection was lost (a restart, an idle timeout): once more on a new one
            return self._execute(text, params, [])
        except psycopg.OperationalError as err:
            raise IndexUnavailable(
                f"the PostgreSQL index at {masked(self.url)} failed: {err}"
            ) from err

    def _execute(self, text: str, params: Mapping[str, Param] | None, used: list[Any]) -> Result:
        with self._connected() as connection:
            used.append(connection)
            cursor = connection.execute(text, params)
            rows = cursor.fetchall() if cursor.description else []
            return Result(rows, cursor.rowcount)

    @contextmanager
    def _connected(self) -> Iterator[Any]:
        if self.reuse_one:
            with self._lock:
                if self._connection is None or self._connection.closed:
                    self._connection = self._connect()
                yield self._connection
            return
        with self._lock:
            if self._pool is None:
                self._pool = self._open_pool()
        with self._pool.connection() as connection:
            yield connection

    def _connect(self) -> Any:
        psycopg = _psycopg()
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as err:
            raise IndexUnavailable(f"cannot reach PostgreSQL at {masked(self.url)}: {err}") from err
        except psycopg.ProgrammingError as err:  # a malformed URL
            raise IndexUnavailable(f"bad PostgreSQL URL {masked(self.url)}: {err}") from err

    def _open_pool(self) -> Any:
        from psycopg_pool import ConnectionPool

        first = self._connect()  # fail now, clearly, rather than in the pool's threads
        first.close()
        return ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            kwargs={"autocommit": True, "connect_timeout": 10},
            open=True,
            name="imghash",
        )

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            if self._connection is not None:
                self._connection.close()
                self._connection = None
