"""A real PostgreSQL for the tests (pgserver), a schema per test, and the RDS Data API on it.

pgserver bundles PostgreSQL's binaries in its wheel and runs a throwaway server on a
data folder, reached by a Unix socket (no TCP port, so parallel test runs on the
machine cannot collide). Run as root, it creates a system user ``pgserver`` and runs
the server as that user, since PostgreSQL refuses to run as root.

The Data API cannot run here (no Aurora); :class:`DataApiOnPostgres` answers a real
botocore ``rds-data`` client's ``ExecuteStatement`` calls by running the request's SQL,
with its typed parameters, on the real server, and answers in the service's response
shape, parsed by botocore's own parser. The request is the one botocore validated and
serialised, so its shape is checked; only the service's hop is replaced.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

#: The Data API's names for the tests' cluster, secret and database.
CLUSTER_ARN = "arn:aws:rds:eu-west-1:123456789012:cluster:imghash-index"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:imghash-index-abc123"
DATABASE = "imghash"


@contextmanager
def server() -> Iterator[str]:
    """A PostgreSQL server in a new folder for as long as the block runs; yields its URL.

    The folder is not under pytest's temporary root: other test runs on the machine
    prune old folders there, and a server's data would go with them. Raises
    ImportError when pgserver is not installed, or what starting it raised.
    """
    folder = Path(tempfile.mkdtemp(prefix="imghash-postgres-"))
    try:
        with warnings.catch_warnings():
            # platformdirs (through pgserver) warns when XDG_RUNTIME_DIR is unset (CI, root).
            warnings.simplefilter("ignore")
            import pgserver

            found = pgserver.get_server(folder / "data", cleanup_mode="stop")
        try:
            # A throwaway server: durability buys nothing here, and fsync on a shared disk
            # makes every test wait.
            import psycopg

            with psycopg.connect(found.get_uri(), autocommit=True) as admin:
                admin.execute("ALTER SYSTEM SET fsync = off")
                admin.execute("ALTER SYSTEM SET synchronous_commit = off")
                admin.execute("SELECT pg_reload_conf()")
            yield str(found.get_uri())
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def with_schema(url: str, schema: str) -> str:
    """``url`` whose connections see ``schema`` first (each test gets its own)."""
    return f"{url}&options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A new empty schema for one test; yields the URL that uses it, and drops it after."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class DataApiOnPostgres:
    """The RDS Data API's ``ExecuteStatement``, served from a real PostgreSQL.

    Registered on a botocore event emitter at ``before-call.rds-data.ExecuteStatement``
    (ahead of moto's own ``before-send`` handler). Every request is kept in ``requests``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.requests: list[dict[str, Any]] = []
        self._connection: Any = None

    def attach(self, events: Any) -> None:
        events.register("before-call.rds-data.ExecuteStatement", self)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[Any, Any]:
        from botocore.awsrequest import AWSResponse
        from botocore.parsers import create_parser

        request = json.loads(params["body"])
        self.requests.append(request)
        status, body = self._execute(request)
        raw = json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        if status != 200:
            headers["x-amzn-errortype"] = body["__type"]
        response = {"status_code": status, "headers": headers, "body": raw}
        parsed = create_parser(model.metadata["protocol"]).parse(response, model.output_shape)
        return AWSResponse(params["url"], status, headers, _Raw(raw)), parsed

    def _execute(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        import psycopg

        if (request["resourceArn"], request["secretArn"], request["database"]) != (
            CLUSTER_ARN,
            SECRET_ARN,
            DATABASE,
        ):
            return 400, {"__type": "BadRequestException", "message": "unknown database"}
        values = {p["name"]: _python(p["value"]) for p in request.get("parameters", [])}
        sql = request["sql"]
        if values:
            sql = _PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))
        if self._connection is None:
            self._connection = psycopg.connect(self.url, autocommit=True)
        try:
            cursor = self._connection.execute(sql, values or None)
        except psycopg.Error as err:
            return 400, {"__type": "BadRequestException", "message": str(err)}
        rows = cursor.fetchall() if cursor.description else []
        return 200, {
            "records": [[_field(v) for v in row] for row in rows],
            "numberOfRecordsUpdated": max(cursor.rowcount, 0) if not cursor.description else 0,
        }


def _python(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    ((kind, value),) = field.items()
    if kind == "arrayValue":
        raise ValueError("the Data API takes no array parameters")
    return value


def _field(value: Any) -> dict[str, Any]:
    """A value as the Data API returns it (bigint and integer as longValue, text and
    numeric as stringValue, boolean as booleanValue, NULL as isNull)."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, Decimal):  # numeric: the service sends it as text
        return {"stringValue": str(value)}
    raise TypeError(f"no Data API field for {type(value).__name__}")
