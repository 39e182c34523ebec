"""Where a request's images and options come from: query, raw body, multipart or JSON.

Limits are checked before work: Content-Length before the body is read, the
body read no further than its cap, base64 measured before it is decoded.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from .._errors import ImageTooLarge, ImghashError, InvalidRequest
from .._formats import sniff
from .._settings import Settings

__all__ = [
    "FILE_ALIASES",
    "ImageSource",
    "Options",
    "RequestInputs",
    "decode_base64",
    "field_strings",
    "merge_fields",
    "parse_json",
    "parse_multipart",
    "read_body",
    "read_inputs",
]

#: Other names a form's image may come under (``curl -F file=@photo.jpg``, upload widgets).
FILE_ALIASES = {"file": "image", "file1": "image1", "file2": "image2"}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_B64_SPACE = str.maketrans({" ": "+", "-": "+", "_": "/"})


@dataclass(frozen=True)
class ImageSource:
    """One image: either fetched from ``url`` or given as ``data``."""

    url: str | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class Options:
    algorithm: str | None
    profile: str | None
    fast: bool
    #: Match against every orientation of the first image (compare; search).
    dihedral: bool = False


@dataclass(frozen=True)
class RequestInputs:
    """Every named field of the request (query first, then the body's fields)."""

    fields: Mapping[str, str]
    files: Mapping[str, bytes]
    raw: bytes | None

    def options(self) -> Options:
        """The hashing options; a field left empty (as forms send them) is not given."""
        algorithm = self.fields.get("algorithm", "").strip() or None
        profile = self.fields.get("profile", "").strip() or None
        return Options(algorithm, profile, self.boolean("fast"), self.boolean("dihedral"))

    def boolean(self, name: str) -> bool:
        """A true/false field (1/0, yes/no, on/off too); not given or empty is false."""
        value = self.fields.get(name, "").strip().lower()
        if value not in _TRUE | _FALSE:
            raise InvalidRequest(f"{name}={value!r} is not a boolean; use true or false")
        return value in _TRUE

    def image(self, url_name: str, image_name: str, settings: Settings) -> ImageSource:
        """The image named by ``url_name`` (a URL) or ``image_name`` (a file or base64).

        A raw image body stands for ``image`` (hashing takes a single image).
        """
        url = self.fields.get(url_name, "").strip()
        if self.raw is not None:
            if url or self.fields.get(image_name, "").strip():
                raise InvalidRequest(
                    f"give the image as the body or as {url_name}/{image_name}, not both"
                )
            return ImageSource(data=self.raw)
        if image_name in self.files:
            given = [n for n in (url_name, image_name) if self.fields.get(n, "").strip()]
            if given:
                raise InvalidRequest(f"give {image_name} once: as a file, or {given[0]}, not both")
            return ImageSource(data=self.files[image_name])
        encoded = self.fields.get(image_name, "").strip()
        if url and encoded:
            raise InvalidRequest(f"give {url_name} or {image_name}, not both")
        if url:
            return ImageSource(url=url)
        if encoded:
            return ImageSource(data=decode_base64(encoded, image_name, settings))
        raise self._missing(url_name, image_name)

    def _missing(self, url_name: str, image_name: str) -> InvalidRequest:
        """Name the fields the image is read from, and any file sent under another name."""
        alias = next(a for a, name in FILE_ALIASES.items() if name == image_name)
        message = (
            f"missing image: give {url_name} (a URL) or {image_name} (base64, or a multipart "
            f"file; {alias} works too)"
        )
        if image_name == "image":
            message += ", or send the image itself as the request body"
        if self.files:
            message += f"; the files sent are named {', '.join(sorted(self.files))}"
        return InvalidRequest(message)


def decode_base64(text: str, name: str, settings: Settings) -> bytes:
    """Bytes of a base64 field, with or without a ``data:...;base64,`` prefix."""
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if not header.endswith(";base64"):
            raise InvalidRequest(f"{name} is a data: URI without ;base64")
    text = "".join(text.split()) if "\n" in text or "\t" in text else text
    text = text.translate(_B64_SPACE)  # '+' that a query string turned into ' '; base64url
    if math.floor(len(text) * 3 / 4) > settings.max_bytes:
        raise ImageTooLarge(f"{name} decodes to more than {settings.max_bytes:,} bytes, the limit")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"{name} is not valid base64") from None


_FORMS = ("multipart/form-data", "application/json", "application/x-www-form-urlencoded")


def body_limit(settings: Settings, kind: str = "multipart/form-data") -> int:
    """Largest request body of a content type, known before a byte of it is read.

    A form may carry two images (compare), as files or in base64; a raw body is one
    image, so it is held to the image limit itself.
    """
    if kind in _FORMS:
        return 2 * math.ceil(settings.max_bytes * 4 / 3) + 64 * 1024
    return settings.max_bytes


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused from its Content-Length when that is over ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidRequest("Content-Length is not a number")
        if int(declared) > limit:
            raise ImageTooLarge(
                f"the request body is {int(declared):,} bytes; the limit is {limit:,}"
            )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ImageTooLarge(f"the request body is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _once(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body


async def parse_multipart(
    request: Request, body: bytes, *, max_files: int, max_fields: int
) -> FormData:
    """The parts of a multipart ``body``, at most ``max_files`` files and ``max_fields``
    text fields; a body Starlette cannot parse is an ``invalid_request``."""
    try:
        # A base64 text field may be as large as the body itself (Starlette's 1 MB default).
        return await MultiPartParser(
            request.headers,
            _once(body),
            max_files=max_files,
            max_fields=max_fields,
            max_part_size=len(body) + 1,
        ).parse()
    except MultiPartException as err:
        raise InvalidRequest(f"the multipart body is malformed ({err.message})") from None


async def _multipart(request: Request, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    form = await parse_multipart(request, body, max_files=4, max_fields=20)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[name] = await value.read()
            await value.close()
        else:
            fields[name] = value
    for alias, name in FILE_ALIASES.items():
        if alias in files or alias in fields:
            if name in files or name in fields:
                raise InvalidRequest(f"give {name} or {alias}, not both")
            if alias in files:
                files[name] = files.pop(alias)
            else:
                fields[name] = fields.pop(alias)
    return fields, files


def parse_json(body: bytes) -> Any:
    """The value of a JSON body; a body that is not JSON is an ``invalid_request``."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the JSON body is not valid JSON") from None
    except RecursionError:  # arrays or objects nested thousands deep
        raise InvalidRequest("the JSON body is nested too deeply; send a flat object") from None


def _json_fields(body: bytes) -> dict[str, str]:
    parsed = parse_json(body)
    if not isinstance(parsed, dict):
        raise InvalidRequest("the JSON body must be an object")
    return field_strings(parsed)


def field_strings(parsed: Mapping[str, Any]) -> dict[str, str]:
    """A JSON object's fields as the text a query or form would give them."""
    fields = {}
    for key, value in parsed.items():
        if isinstance(value, bool):
            fields[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            fields[key] = str(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            fields[key] = ",".join(value)
        else:
            raise InvalidRequest(f"JSON field {key!r} must be a string, number or boolean")
    return fields


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _form_fields(body: bytes) -> dict[str, str] | None:
    """The fields of a URL-encoded form, or None when the body is not one.

    curl's ``--data-binary @file`` labels any file a form: a body whose names are not
    field names (an HTML page, say) is taken as the raw upload it is.
    """
    try:
        text = body.decode("ascii")  # a form's bytes are ASCII; the rest is percent-encoded
    except UnicodeDecodeError:
        return None
    pairs = parse_qsl(text, keep_blank_values=True)
    if not pairs or not all(_FIELD_NAME.fullmatch(name) for name, _ in pairs):
        return None
    return dict(pairs)


def _looks_like_an_image(body: bytes) -> bool:
    try:
        sniff(body)
    except ImghashError:
        return False
    return True


def merge_fields(body: Mapping[str, str], query: Mapping[str, str]) -> dict[str, str]:
    """The body's fields and the query's; a field may be in both only with one value, so
    that no value the request gives is silently ignored."""
    for name in body.keys() & query.keys():
        if body[name] != query[name]:
            raise InvalidRequest(
                f"{name} is given twice, in the query ({query[name]!r}) and in the body "
                f"({body[name]!r}); give it once"
            )
    return {**body, **query}


async def read_inputs(request: Request, settings: Settings) -> RequestInputs:
    """Collect the request's fields and files; a GET has only its query."""
    fields = dict(request.query_params)
    if request.method != "POST":
        return RequestInputs(fields, {}, None)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request, body_limit(settings, kind))
    if kind == "multipart/form-data":
        form_fields, files = await _multipart(request, body)
        return RequestInputs(merge_fields(form_fields, fields), files, None)
    if kind == "application/json":
        return RequestInputs(merge_fields(_json_fields(body), fields), {}, None)
    if kind == "application/x-www-form-urlencoded" and not _looks_like_an_image(body):
        form = _form_fields(body)
        if form is not None:  # a real HTML form (url=...&image=...)
            return RequestInputs(merge_fields(form, fields), {}, None)
    if not body:
        if fields:
            return RequestInputs(fields, {}, None)
        raise InvalidRequest("the request body is empty: send an image, multipart or JSON")
    return RequestInputs(fields, {}, body)  # a raw image: its format is sniffed, not trusted
