"""The deploy-time setup of an Aurora index (the IndexSchema custom resource) on the real
server through the Data API: schema, users, and least privilege inside the database."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from moto import mock_aws

from imghash import Hash, Settings
from imghash._errors import IndexMissing
from imghash.index import IndexRecord, PostgresStore, SearchService
from imghash.index._pgwire import Psycopg
from imghash.index._setup import _put_response, setup_handler
from tests.index.conftest import AURORA

USERS = {"search": "imghash_search", "index": "imghash_index"}


@pytest.fixture
def secrets() -> Iterator[tuple[Any, dict[str, str]]]:
    with mock_aws():
        client = boto3.client(
            "secretsmanager",
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        arns = {
            role: client.create_secret(
                Name=f"imghash-{role}",
                SecretString=json.dumps({"username": user, "password": f"pw'{role}"}),
            )["ARN"]
            for role, user in USERS.items()
        }
        yield client, arns


def event(kind: str, arns: dict[str, str]) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/x",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/imghash/1",
        "RequestId": "r-1",
        "LogicalResourceId": "IndexSchema",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:schema",
            "SearchSecretArn": arns["search"],
            "IndexSecretArn": arns["index"],
        },
    }


def as_user(pg_url: str, user: str) -> str:
    return pg_url.replace("postgresql://postgres:", f"postgresql://{user}:", 1)


def test_setup_makes_the_schema_and_users_with_least_privilege(
    rds_data: Any, secrets: tuple[Any, dict[str, str]], pg_url: str
) -> None:
    client, arns = secrets
    answers: list[dict[str, Any]] = []
    admin = PostgresStore.data_api(AURORA, client=rds_data, manage_schema=True)
    handler = setup_handler(
        store=admin, secrets=client, respond=lambda url, body: answers.append(body)
    )
    handler(event("Create", arns), None)
    handler(event("Update", arns), None)  # again, on the next deploy: harmless
    assert [a["Status"] for a in answers] == ["SUCCESS", "SUCCESS"], answers
    assert answers[0]["LogicalResourceId"] == "IndexSchema"

    # As the stack's functions: each as its own user, no DDL ever.
    writer = PostgresStore(Psycopg(as_user(pg_url, USERS["index"])), manage_schema=False)
    reader = PostgresStore(Psycopg(as_user(pg_url, USERS["search"])), manage_schema=False)
    try:
        record = IndexRecord("b", "k", "v1", 1, "jimp", hashes={"phash": Hash(99)})
        assert writer.put(record)
        assert writer.delete("b", "k")
        assert writer.put(record)
        assert SearchService(reader).search(
            Hash(98), algorithm="phash", max_distance=2, limit=None, profile="jimp"
        ) == ([record.match_dict(1)], 1)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.put(IndexRecord("b", "k2", "v1", 1, "jimp"))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.delete("b", "k")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            writer.executor.run("CREATE TABLE elsewhere (x integer)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            writer.executor.run("DROP TABLE records")
    finally:
        writer.close()
        reader.close()


def test_a_failed_setup_is_reported_not_left_waiting(
    rds_data: Any, secrets: tuple[Any, dict[str, str]]
) -> None:
    client, arns = secrets
    answers: list[dict[str, Any]] = []
    settings = Settings(
        aurora_cluster_arn=AURORA.aurora_cluster_arn,
        aurora_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:wrong",
        aurora_database=AURORA.aurora_database,
    )
    handler = setup_handler(
        store=PostgresStore.data_api(settings, client=rds_data, manage_schema=True),
        secrets=client,
        respond=lambda url, body: answers.append(body),
    )
    handler(event("Create", arns), None)
    assert answers[0]["Status"] == "FAILED"
    assert "BadRequestException" in answers[0]["Reason"]
    handler(event("Delete", arns), None)  # a delete leaves the data and always succeeds
    assert answers[1]["Status"] == "SUCCESS"


def test_the_stack_functions_refuse_a_database_without_schema(rds_data: Any) -> None:
    store = PostgresStore.data_api(AURORA, client=rds_data)  # as deployed: no DDL
    with pytest.raises(IndexMissing, match=r"no index at .* yet"):
        store.get("b", "k")


def test_the_answer_is_put_to_cloudformations_url() -> None:
    received: list[tuple[str, bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append((self.headers.get("Content-Type", ""), self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    _put_response(f"http://127.0.0.1:{server.server_port}/r", {"Status": "SUCCESS"})
    thread.join(10)
    server.server_close()
    assert received == [("", b'{"Status": "SUCCESS"}')]
