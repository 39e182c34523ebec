"""Deploy-time setup of an Aurora index: the schema, and the functions' database users.

Run by the stack's ``IndexSchema`` custom resource (``functions/schema``) as the
cluster's master user, through the Data API, on every deploy that changes it: it is
idempotent. Least privilege holds in the database as in IAM: the search function
connects as a user that may only read, the index function as one that may write
records but change no schema, and only this function reads the master secret.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable
from typing import Any

from .._settings import Settings
from ._pgschema import plain_name
from ._postgres import PostgresStore

__all__ = ["grants_sql", "setup_handler", "user_sql"]

log = logging.getLogger("imghash.index")

Respond = Callable[[str, dict[str, Any]], None]


def user_sql(name: str, password: str) -> str:
    """Create the login role ``name`` if missing and set its password. DDL takes no
    parameters, so the password is inlined, quoted (Secrets Manager's are generated
    without quotes or backslashes); statements are not logged by default."""
    role = plain_name(name)
    quoted = "'" + password.replace("'", "''") + "'"
    return f"""
DO $user$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE {role} LOGIN;
    END IF;
    ALTER ROLE {role} WITH LOGIN PASSWORD {quoted};
END
$user$
"""


def grants_sql(search_user: str, index_user: str) -> str:
    """The search user reads; the index user reads and writes records, changes no schema.

    The record-count triggers run as the writer, hence its rights on ``profile_counts``.
    """
    search, index = plain_name(search_user), plain_name(index_user)
    return f"""
DO $grants$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO {search}, {index}', current_database());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO {search}, {index}', current_schema());
    GRANT SELECT ON records, hash_spaces, hashes64, hashes256, index_layout, profile_counts
        TO {search};
    GRANT SELECT, INSERT, UPDATE, DELETE ON records, hashes64, hashes256 TO {index};
    GRANT SELECT ON hash_spaces, index_layout TO {index};
    GRANT SELECT, INSERT, UPDATE ON profile_counts TO {index};
END
$grants$
"""


def _secret(client: Any, arn: str) -> tuple[str, str]:
    found = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    return str(found["username"]), str(found["password"])


def _put_response(url: str, body: dict[str, Any]) -> None:
    """Answer CloudFormation at the presigned URL it gave (an HTTPS S3 URL)."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30):
        pass


def _default_secrets() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def setup_handler(
    *,
    store: PostgresStore | None = None,
    secrets: Any = None,
    respond: Respond = _put_response,
) -> Callable[[dict[str, Any], Any], None]:
    """A CloudFormation custom resource handler: on Create and Update, the schema and the
    users named by the ``SearchSecretArn`` and ``IndexSecretArn`` properties; on Delete,
    nothing (the data stays with the cluster and its snapshot policy)."""

    def handler(event: dict[str, Any], context: Any) -> None:
        answer: dict[str, Any] = {
            "Status": "SUCCESS",
            "PhysicalResourceId": event.get("PhysicalResourceId") or "imghash-index-schema",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
        try:
            if event["RequestType"] in ("Create", "Update"):
                _setup(event["ResourceProperties"], store, secrets)
        except Exception as err:  # CloudFormation must hear of any failure, or it waits
            log.exception("index schema setup failed")
            answer.update(Status="FAILED", Reason=f"{type(err).__name__}: {err}"[:1000])
        respond(event["ResponseURL"], answer)

    return handler


def _setup(properties: dict[str, Any], store: PostgresStore | None, secrets: Any) -> None:
    made = store is None
    if store is None:
        store = PostgresStore.data_api(Settings.from_environ(), manage_schema=True)
    secrets = secrets if secrets is not None else _default_secrets()
    try:
        _ = store.layout  # the schema, made if missing; refuses another substring count
        users = [_secret(secrets, properties[k]) for k in ("SearchSecretArn", "IndexSecretArn")]
        for name, password in users:
            store.executor.run(user_sql(name, password))
        store.executor.run(grants_sql(users[0][0], users[1][0]))
    finally:
        if made:
            store.close()
