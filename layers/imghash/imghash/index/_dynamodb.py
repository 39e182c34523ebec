"""The AWS store: one DynamoDB item per object, written with conditions (DESIGN §8)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

from .._hashvalue import DEFAULT_WIDTH, Hash
from ._record import IndexRecord

__all__ = ["TABLE_KEY", "DynamoStore"]

#: The table's key, as template.yaml declares it (a test holds the two together).
TABLE_KEY: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}

# The write rule of every store (see _store.supersedes).
_NEWER = (
    "attribute_not_exists(id) OR sequencer < :s "
    "OR (sequencer = :s AND (version <> :v OR profile <> :p{replaces_fast}{gains}))"
)


def _default_client() -> Any:
    import boto3

    return boto3.client("dynamodb")


class DynamoStore:
    """Index records in a DynamoDB table whose partition key is ``id`` (``bucket/key``).

    The client is made on first use (never at import), or injected.
    """

    def __init__(
        self, table: str, client: Any = None, client_factory: Callable[[], Any] = _default_client
    ) -> None:
        self.table = table
        self._client = client
        self._factory = client_factory

    @cached_property
    def client(self) -> Any:
        return self._client if self._client is not None else self._factory()

    def put(self, record: IndexRecord) -> bool:
        item: dict[str, dict[str, Any]] = {
            "id": {"S": f"{record.bucket}/{record.key}"},
            "bucket": {"S": record.bucket},
            "key": {"S": record.key},
            "version": {"S": record.version},
            "sequencer": {"S": record.sequencer},
            "size": {"N": str(record.size)},
            "profile": {"S": record.profile},
            "indexed_at": {"S": record.indexed_at},
            "low_information": {"BOOL": record.low_information},
        }
        optional: dict[str, dict[str, Any] | None] = {
            "format": {"S": record.format} if record.format else None,
            "width": {"N": str(record.width)} if record.width is not None else None,
            "height": {"N": str(record.height)} if record.height is not None else None,
            "error": {"S": record.error} if record.error else None,
            "error_message": {"S": record.error_message} if record.error_message else None,
            "fast": {"BOOL": True} if record.fast else None,
        }
        item.update({k: v for k, v in optional.items() if v is not None})
        for name, value in record.hashes.items():
            if len(value) == DEFAULT_WIDTH:  # 256 bits (PDQ) is no DynamoDB number (38 digits)
                item[name] = {"N": str(value.signed)}
            item[f"{name}_hex"] = {"S": value.hex()}
        for name, score in record.quality.items():
            item[f"{name}_quality"] = {"N": str(score)}
        # Hashed by an algorithm the stored item lacks: the same version, rewritten.
        names = {f"#h{i}": f"{name}_hex" for i, name in enumerate(sorted(record.hashes))}
        gains = "".join(f" OR attribute_not_exists({alias})" for alias in names)
        values: dict[str, dict[str, Any]] = {
            ":s": {"S": record.sequencer},
            ":v": {"S": record.version},
            ":p": {"S": record.profile},
        }
        # Hashed exactly, it replaces the same version hashed in fast mode.
        replaces_fast = "" if record.fast else " OR #fast = :fast"
        if not record.fast:
            values[":fast"] = {"BOOL": True}
            names["#fast"] = "fast"
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression=_NEWER.format(replaces_fast=replaces_fast, gains=gains),
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False  # the same event again, or an older one: nothing to do
        return True

    def delete(self, bucket: str, key: str, sequencer: str = "") -> bool:
        args: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"id": {"S": f"{bucket}/{key}"}},
            "ReturnValues": "ALL_OLD",
        }
        if sequencer:
            args["ConditionExpression"] = "attribute_not_exists(id) OR sequencer <= :s"
            args["ExpressionAttributeValues"] = {":s": {"S": sequencer}}
        try:
            old = self.client.delete_item(**args)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False  # the object was written again after this delete
        return "Attributes" in old

    def get(self, bucket: str, key: str) -> IndexRecord | None:
        found = self.client.get_item(
            TableName=self.table, Key={"id": {"S": f"{bucket}/{key}"}}, ConsistentRead=True
        )
        return _record(found["Item"]) if "Item" in found else None

    def scan(self) -> Iterator[IndexRecord]:
        for page in self.client.get_paginator("scan").paginate(TableName=self.table):
            for item in page.get("Items", []):
                yield _record(item)

    def generation(self) -> str | None:
        return None  # no cheap change counter: searches rebuild on a time limit instead


def _record(item: dict[str, dict[str, Any]]) -> IndexRecord:
    def text(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    def number(name: str) -> int | None:
        return int(item[name]["N"]) if name in item else None

    # Each hash has its hex form, and a 64-bit one its signed form too, which it is read
    # from as it always was.
    hashes = {}
    for attribute, value in item.items():
        if attribute.endswith("_hex"):
            name = attribute.removesuffix("_hex")
            signed = number(name)
            hashes[name] = Hash.from_hex(value["S"]) if signed is None else Hash.from_signed(signed)
    return IndexRecord(
        bucket=item["bucket"]["S"],
        key=item["key"]["S"],
        version=item["version"]["S"],
        size=int(item["size"]["N"]),
        profile=item["profile"]["S"],
        indexed_at=item["indexed_at"]["S"],
        sequencer=item["sequencer"]["S"],
        format=text("format"),
        width=number("width"),
        height=number("height"),
        hashes=hashes,
        quality={
            name.removesuffix("_quality"): int(value["N"])
            for name, value in item.items()
            if name.endswith("_quality")
        },
        low_information=bool(item.get("low_information", {}).get("BOOL", False)),
        fast=bool(item.get("fast", {}).get("BOOL", False)),
        error=text("error"),
        error_message=text("error_message"),
    )
