"""What a batch request holds (``POST /v1/hash/batch``): its items, in order, and its options.

A batch is JSON, ``{"items": [...], "algorithm", "profile", "fast"}`` or the bare list of
items with the options in the query, or multipart with an ``image`` part (or ``file``) per
image and a ``url`` field per URL. Its size is checked from Content-Length before the
body is read. Everything about the batch as a whole is checked here, before any work: a
batch that is not one fails whole, with a 400; an item that is wrong only becomes that
item's error, whatever the others are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from .._errors import ImghashError, InvalidRequest
from .._settings import Settings
from ._inputs import (
    FILE_ALIASES,
    Options,
    RequestInputs,
    decode_base64,
    field_strings,
    merge_fields,
    parse_json,
    parse_multipart,
    read_body,
)

__all__ = [
    "ITEM_FIELDS",
    "MAX_ID_CHARS",
    "MAX_ITEMS",
    "OPTIONS",
    "Batch",
    "Item",
    "batch_body_limit",
    "read_batch",
]

#: Most items in one batch (DESIGN §5).
MAX_ITEMS = 100
#: Longest ``id`` an item may carry (the answer echoes it).
MAX_ID_CHARS = 256
#: The fields of an item, and the options of the whole batch.
ITEM_FIELDS = ("url", "image", "id")
OPTIONS = ("algorithm", "profile", "fast")

_IMAGE_PARTS = {"image", *(alias for alias, name in FILE_ALIASES.items() if name == "image")}


@dataclass(frozen=True)
class Item:
    """One entry of a batch: a URL to fetch, bytes to hash, or the error it already is."""

    id: str | int | None = None
    url: str | None = None
    data: bytes | None = None
    error: ImghashError | None = None


@dataclass(frozen=True)
class Batch:
    items: list[Item]
    options: Options


def batch_body_limit(settings: Settings, kind: str) -> int:
    """Largest batch body of a content type, known before a byte of it is read.

    API Gateway hands a Lambda function a multipart body (a binary media type) in
    base64, a third larger, and a JSON body as it is; both must fit Lambda's 6 MiB
    request payload, so a multipart batch gets three quarters of a JSON batch's bytes.
    """
    if kind == "multipart/form-data":
        return settings.max_batch_bytes * 3 // 4
    return settings.max_batch_bytes


async def read_batch(request: Request, settings: Settings) -> Batch:
    """The request's items and options; a batch that is not one is an ``invalid_request``."""
    query = dict(request.query_params)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request, batch_body_limit(settings, kind))
    if kind == "multipart/form-data":
        fields, items = await _multipart_batch(request, body, settings)
    elif kind == "application/json" or body.lstrip()[:1] in (b"{", b"["):
        # JSON, however labelled: `curl -d` says it is a form.
        fields, items = _json_batch(body, settings)
    else:
        raise InvalidRequest(
            'a batch is JSON, {"items": [{"url": ...}, {"image": ...}, ...]} or the bare list '
            "of items, or multipart/form-data with an image part per image"
        )
    if not items:
        raise InvalidRequest(f"the batch is empty; give 1 to {MAX_ITEMS} items")
    return Batch(items, RequestInputs(merge_fields(fields, query), {}, None).options())


def _too_many(count: int) -> InvalidRequest:
    return InvalidRequest(
        f"the batch has {count} items; a batch takes at most {MAX_ITEMS}: send the rest in another"
    )


def _json_batch(body: bytes, settings: Settings) -> tuple[dict[str, str], list[Item]]:
    parsed = parse_json(body)
    fields: dict[str, str] = {}
    if isinstance(parsed, dict):
        unknown = sorted(set(parsed) - {"items", *OPTIONS})
        if unknown:
            raise InvalidRequest(
                f"unknown field {unknown[0]!r}; a batch object has items and the options "
                f"{', '.join(OPTIONS)}"
            )
        if "items" not in parsed:
            raise InvalidRequest('the batch has no items: send {"items": [...]}')
        fields = field_strings({k: v for k, v in parsed.items() if k != "items"})
        parsed = parsed["items"]
    if not isinstance(parsed, list):
        raise InvalidRequest(
            'a JSON batch is a list of items, or an object whose "items" is that list'
        )
    if len(parsed) > MAX_ITEMS:  # before a single item is looked at
        raise _too_many(len(parsed))
    return fields, [_json_item(entry, settings) for entry in parsed]


def _json_item(entry: Any, settings: Settings) -> Item:
    """One entry of a JSON batch, or the error it is (the messages ``/v1/hash`` gives)."""
    if not isinstance(entry, dict):
        return Item(error=InvalidRequest('an item is an object, {"url": ...} or {"image": ...}'))
    try:
        item_id = _item_id(entry.get("id"))
    except InvalidRequest as err:
        return Item(error=err)
    unknown = sorted(set(entry) - set(ITEM_FIELDS))
    if unknown:
        message = f"unknown item field {unknown[0]!r}; an item has url or image, and an optional id"
        if unknown[0] in OPTIONS:
            message += " (options apply to the whole batch: give them beside items)"
        return Item(item_id, error=InvalidRequest(message))
    given = {}
    for name in ("url", "image"):
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            return Item(item_id, error=InvalidRequest(f"{name} must be a string"))
        given[name] = (value or "").strip()
    url, image = given["url"], given["image"]
    if url and image:
        return Item(item_id, error=InvalidRequest("give url or image, not both"))
    if url:
        return Item(item_id, url=url)
    if not image:
        return Item(item_id, error=InvalidRequest("missing image: give url (a URL) or image"))
    try:
        return Item(item_id, data=decode_base64(image, "image", settings))
    except ImghashError as err:
        return Item(item_id, error=err)


def _item_id(value: object) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= MAX_ID_CHARS:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidRequest(
        f"id must be a string of at most {MAX_ID_CHARS} characters, or a whole number"
    )


async def _multipart_batch(
    request: Request, body: bytes, settings: Settings
) -> tuple[dict[str, str], list[Item]]:
    form = await parse_multipart(
        request, body, max_files=MAX_ITEMS, max_fields=MAX_ITEMS + len(OPTIONS)
    )
    fields: dict[str, str] = {}
    items: list[Item] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            await value.close()
            if name not in _IMAGE_PARTS:
                raise InvalidRequest(_part_names(f"a file named {name!r}"))
            if data or value.filename:  # a form's file input left empty sends neither
                filename = value.filename or None
                keep = filename is not None and len(filename) <= MAX_ID_CHARS
                items.append(Item(filename if keep else None, data=data))
        elif name in OPTIONS:
            if name in fields:
                raise InvalidRequest(f"{name} is given twice; give it once")
            fields[name] = value
        elif name in _IMAGE_PARTS | {"url"}:
            text = value.strip()
            if not text:  # a form's text field left empty: not given
                continue
            if name == "url":
                items.append(Item(url=text))
                continue
            try:
                items.append(Item(data=decode_base64(text, "image", settings)))
            except ImghashError as err:
                items.append(Item(error=err))
        else:
            raise InvalidRequest(_part_names(f"a field named {name!r}"))
    if len(items) > MAX_ITEMS:
        raise _too_many(len(items))
    return fields, items


def _part_names(found: str) -> str:
    return (
        f"the multipart batch has {found}; send each image as a part named image (or file), "
        f"each URL as a field named url, and the options {', '.join(OPTIONS)}"
    )
