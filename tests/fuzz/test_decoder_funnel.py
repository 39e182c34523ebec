"""The one funnel for decoder failures: every reproducer becomes ``unsupported_image``
with its format named, in the library, the API, the CLI and the S3 indexer; memory
exhaustion becomes ``too_large``; a bug of our own stays a bug (a 500)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import ImageFile

import imghash
from imghash import ImageTooLarge, Settings, UnsupportedImage
from imghash.index import MemoryStore, S3Indexer
from imghash.web import create_app
from tests.fuzz.reproducers import REPRODUCERS
from tests.helpers import encode, photo_like

CASES = sorted(REPRODUCERS.items())
IMGHASH = Path(sys.executable).with_name("imghash")


VARIANTS = [("jimp", False), ("jimp", True), ("imagehash", False)]


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
@pytest.mark.parametrize(("profile", "fast"), VARIANTS)
def test_a_reproducer_is_unsupported_with_its_format(
    name: str, case: tuple[str, Callable[[], bytes]], profile: str, fast: bool
) -> None:
    fmt, make = case
    if (name, profile) == ("png_without_plte", "imagehash"):
        # Pillow reads a palette PNG without PLTE as grey for convert("L"): a picture,
        # not a failure; every other reproducer must fail cleanly in every profile.
        assert imghash.hash_image(make(), profile=profile).format == "png"
        return
    with pytest.raises(UnsupportedImage, match=fmt.upper()) as info:
        imghash.hash_image(make(), profile=profile, fast=fast)
    assert info.value.code == "unsupported_image"


def test_memory_exhaustion_in_a_decoder_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(self: ImageFile.ImageFile) -> None:
        raise MemoryError

    monkeypatch.setattr(ImageFile.ImageFile, "load", exhausted)
    with pytest.raises(ImageTooLarge, match="PNG image needs more memory") as info:
        imghash.hash_image(encode(photo_like(), "PNG"))
    assert info.value.http_status == 413


def test_memory_exhaustion_in_our_own_code_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    import imghash._pixels as pixels

    def exhausted(*args: object) -> None:
        raise MemoryError

    monkeypatch.setattr(pixels, "resize_grey", exhausted)
    with pytest.raises(ImageTooLarge, match="more memory"):
        imghash.hash_image(encode(photo_like(), "JPEG"))


def test_a_bug_of_ours_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    import imghash._pixels as pixels

    def buggy(*args: object) -> None:
        raise TypeError("a bug in imghash itself")

    monkeypatch.setattr(pixels, "resize_grey", buggy)
    with pytest.raises(TypeError, match="a bug in imghash itself"):
        imghash.hash_image(encode(photo_like(), "PNG"))


async def _posts(app: FastAPI, body: bytes) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        good = encode(photo_like(), "PNG")
        return [
            await client.post("/v1/hash", content=body, headers={"content-type": "image/png"}),
            await client.post("/v1/compare", files={"image1": body, "image2": good}),
            await client.post("/v1/search", content=body, headers={"content-type": "image/png"}),
        ]


def _post_all(app: FastAPI, body: bytes) -> list[httpx.Response]:
    # A loop of our own, closed after: asyncio.run would replace (and drop, unclosed)
    # the current loop that Mangum set for the handler tests.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_posts(app, body))
    finally:
        loop.close()


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_the_api_answers_415_not_500(
    name: str, case: tuple[str, Callable[[], bytes]], tmp_path: Path
) -> None:
    fmt, make = case
    if name == "png_without_plte":
        return  # its failure is profile-dependent; the others fail in every profile
    from imghash.index import SearchService, SQLiteStore

    search = SearchService(SQLiteStore(tmp_path / "index.db"))
    app = create_app(settings=Settings(), search=search)
    for response in _post_all(app, make()):
        assert response.status_code == 415, response.text
        body = response.json()
        assert body["error"]["code"] == "unsupported_image"
        assert fmt.upper() in body["error"]["message"]


def test_the_cli_reports_the_bad_file_and_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a_good.png").write_bytes(encode(photo_like(seed=1), "PNG"))
    for name, (fmt, make) in CASES:
        (folder / f"b_{name}.{fmt}").write_bytes(make())
    (folder / "c_good.jpg").write_bytes(encode(photo_like(seed=2), "JPEG"))
    done = subprocess.run(
        [str(IMGHASH), "hash", "--json", str(folder)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert b"Traceback" not in done.stderr
    lines = {Path(str(x["source"])).name: x for x in map(json.loads, done.stdout.splitlines())}
    assert "phash" in lines["a_good.png"]
    assert "phash" in lines["c_good.jpg"]
    for name, (fmt, _) in CASES:  # the default profile (jimp) refuses every reproducer
        assert lines[f"b_{name}.{fmt}"]["error"]["code"] == "unsupported_image"  # type: ignore[index]


class FakeS3:
    """Objects in a dict, served as S3 would (with ranged reads)."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def head_object(self, **args: str) -> dict[str, object]:
        key = args["Key"]
        return {"ContentLength": len(self.objects[key]), "ETag": f'"{key}"'}

    def get_object(self, **args: str) -> dict[str, object]:
        data = self.objects[args["Key"]]
        if "Range" in args:
            first, last = args["Range"].removeprefix("bytes=").split("-")
            data = data[int(first) : int(last) + 1]
        return {"Body": _Body(data)}


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, limit: int = -1) -> bytes:
        return self.data[:limit] if limit >= 0 else self.data


def test_the_s3_indexer_records_each_object_on_its_own() -> None:
    objects = {f"images/{name}": make() for name, (_, make) in CASES}
    objects["images/good.png"] = encode(photo_like(), "PNG")
    records = [
        {
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "b"}, "object": {"key": key, "sequencer": "0A"}},
        }
        for key in objects
    ]
    store = MemoryStore()
    counts = S3Indexer(store, Settings(), s3=FakeS3(objects)).handle_event({"Records": records})
    assert counts["indexed"] == 1
    assert counts["not_images"] == len(CASES)
    good = store.get("b", "images/good.png")
    assert good is not None
    assert good.error is None
    for name, _ in CASES:
        record = store.get("b", f"images/{name}")
        assert record is not None
        assert record.error == "unsupported_image"
