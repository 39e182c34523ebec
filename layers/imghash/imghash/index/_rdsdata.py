"""Statements to Aurora PostgreSQL through the RDS Data API: HTTPS, IAM and a secret.

No VPC, no connection to keep: each ``ExecuteStatement`` is one statement in its own
transaction, which is how the store's statements are written. The Data API takes no
array parameters, so the store passes its probe arrays as array literals that the SQL
casts. The client is injected, or made on first use (never at import).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from ._postgres import Param, Result

__all__ = ["DataApi"]

#: Errors after which the same statement may simply be sent again: the cluster waking
#: from zero capacity, or the service shedding load.
_AGAIN = {"DatabaseResumingException", "ServiceUnavailableError", "ThrottlingException"}


def _default_client() -> Any:
    import boto3

    return boto3.client("rds-data")


def field(value: Param) -> dict[str, Any]:
    """A parameter as the Data API's typed ``Field``."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):  # before int: a bool is an int to Python
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    return {"stringValue": value}


def value(found: Mapping[str, Any]) -> Any:
    """A result ``Field`` as a Python value."""
    if found.get("isNull"):
        return None
    for kind in ("longValue", "stringValue", "booleanValue", "doubleValue"):
        if kind in found:
            return found[kind]
    raise ValueError(f"unexpected Data API field {sorted(found)}")


class DataApi:
    """Runs statements on one Aurora database as the user whose secret is given."""

    def __init__(
        self,
        cluster_arn: str,
        secret_arn: str,
        database: str,
        *,
        client: Any = None,
        client_factory: Callable[[], Any] = _default_client,
        waits: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cluster_arn = cluster_arn
        self.secret_arn = secret_arn
        self.database = database
        self._client = client
        self._factory = client_factory
        self.waits = waits
        self.sleep = sleep

    @cached_property
    def client(self) -> Any:
        return self._client if self._client is not None else self._factory()

    def run(self, sql: str, params: Mapping[str, Param] | None = None) -> Result:
        request: dict[str, Any] = {
            "resourceArn": self.cluster_arn,
            "secretArn": self.secret_arn,
            "database": self.database,
            "sql": sql,
        }
        if params:
            request["parameters"] = [
                {"name": name, "value": field(given)} for name, given in params.items()
            ]
        for wait in (*self.waits, None):
            try:
                answer = self.client.execute_statement(**request)
                break
            except Exception as err:
                code = getattr(err, "response", {}).get("Error", {}).get("Code")
                if wait is None or code not in _AGAIN:
                    raise  # the indexer's classifier makes botocore errors retries
                self.sleep(wait)
        rows = [tuple(value(f) for f in record) for record in answer.get("records", [])]
        return Result(rows, int(answer.get("numberOfRecordsUpdated", 0)))

    def close(self) -> None:
        """Nothing is held open between statements."""
