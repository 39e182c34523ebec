"""Moto-backed S3 and DynamoDB for the index tests, with the table the template declares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from imghash.index._dynamodb import TABLE_KEY

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
