"""Moto-backed S3 and DynamoDB for the index tests, with the table the template declares;
every kind of store, made empty for a test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from imghash import Settings
from imghash.index import DynamoStore, MemoryStore, PostgresStore, SQLiteStore, Store
from imghash.index._dynamodb import TABLE_KEY
from tests.pg import CLUSTER_ARN, DATABASE, SECRET_ARN

BUCKET = "imghash-images-123456789012"
TABLE = "imghash-index"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A mocked account: the images bucket and the index table, and clients for both."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST", **TABLE_KEY)
        yield {"s3": s3, "dynamodb": dynamodb}


AURORA = Settings(
    aurora_cluster_arn=CLUSTER_ARN, aurora_secret_arn=SECRET_ARN, aurora_database=DATABASE
)

STORES = ["memory", "sqlite", "dynamodb", "postgres", "aurora"]


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A store of ``kind``, empty; PostgreSQL on the real test server, Aurora through the
    Data API served by that server. Closed by the test's finaliser."""
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "index.db")
    if kind == "dynamodb":
        aws: dict[str, Any] = request.getfixturevalue("aws")
        return DynamoStore(TABLE, client=aws["dynamodb"])
    if kind == "postgres":
        found = PostgresStore.connect(request.getfixturevalue("pg_url"))
    else:
        client = request.getfixturevalue("rds_data")
        found = PostgresStore.data_api(AURORA, client=client, manage_schema=True)
    request.addfinalizer(found.close)
    return found
