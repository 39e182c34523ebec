"""PDQ and dihedral matching through a real server: hash, compare (GET and POST), meta, docs."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

import imghash
from tests.helpers import encode, photo_like
from tests.servers import api_server


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with api_server({}) as (url, _):
        yield url


@pytest.fixture(scope="module")
def bridge(corpus: Path) -> tuple[bytes, bytes]:
    folder = corpus / "pdq/reg-test-input/dih"
    return (
        (folder / "bridge-1-original.jpg").read_bytes(),
        (folder / "bridge-2-rotate-90.jpg").read_bytes(),
    )


def ok(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def test_hash_pdq_by_name_and_all_unchanged(base: str, bridge: tuple[bytes, bytes]) -> None:
    original = bridge[0]
    expected = imghash.hash_image(original, algorithms="all,pdq")
    pdq = ok(httpx.post(base + "/v1/hash?algorithm=pdq", content=original))
    assert pdq == {"pdq": expected.hex()["pdq"], "quality": {"pdq": 100}}
    assert len(str(pdq["pdq"])) == 64
    every = ok(httpx.post(base + "/v1/hash", params={"algorithm": "all,pdq"}, content=original))
    assert every == {**expected.hex(), "quality": {"pdq": 100}}
    seed = ok(httpx.post(base + "/v1/hash", content=original))
    assert set(seed) == {"ahash", "dhash", "phash"}  # all: the seed's shape
    encoded = base64.b64encode(original).decode()
    as_json = ok(httpx.post(base + "/v1/hash", json={"image": encoded, "algorithm": ["pdq"]}))
    assert as_json == pdq


def test_compare_with_pdq_and_dihedral(base: str, bridge: tuple[bytes, bytes]) -> None:
    original, turned = bridge
    files = {"image1": ("a.jpg", original), "image2": ("b.jpg", turned)}
    plain = ok(httpx.post(base + "/v1/compare?algorithm=phash,pdq", files=files))
    assert plain == imghash.compare_images(original, turned, algorithms="phash,pdq").to_dict()
    assert plain["likely_same"] is False
    assert "orientation" not in plain
    assert plain["quality"] == {"image1": {"pdq": 100}, "image2": {"pdq": 100}}
    found = ok(
        httpx.post(base + "/v1/compare?algorithm=all,pdq", files=files, data={"dihedral": "true"})
    )
    expected = imghash.compare_images(original, turned, algorithms="all,pdq", dihedral=True)
    assert found == expected.to_dict()
    assert found["likely_same"] is True
    assert found["orientation"] == "rotate90"
    assert found["decided_by"] == ["phash", "pdq"]
    small = photo_like(96, 64, seed=8)  # a query string holds small images only
    mirrored = small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    by_get = ok(
        httpx.get(
            base + "/v1/compare",
            params={
                "image1": base64.b64encode(encode(small)).decode(),
                "image2": base64.b64encode(encode(mirrored)).decode(),
                "algorithm": "pdq",
                "dihedral": "1",
            },
        )
    )
    assert (by_get["orientation"], by_get["likely_same"]) == ("flipy", True)


def test_dihedral_needs_an_algorithm_that_turns(base: str, bridge: tuple[bytes, bytes]) -> None:
    files = {"image1": ("a.jpg", bridge[0]), "image2": ("b.jpg", bridge[1])}
    for query, fragment in (
        ("?algorithm=ahash,dhash&dihedral=true", "phash or pdq"),
        ("?dihedral=maybe", "not a boolean"),
    ):
        response = httpx.post(base + "/v1/compare" + query, files=files)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_request"
        assert fragment in response.json()["error"]["message"]


def test_meta_and_the_document_know_pdq(base: str) -> None:
    meta = ok(httpx.get(base + "/v1/meta"))
    assert "pdq" in meta["algorithms"]  # type: ignore[operator]
    assert meta["likely_same"]["max_distance"]["pdq"] == 31  # type: ignore[index]
    assert meta["likely_same"]["min_quality"] == 50  # type: ignore[index]
    assert meta["dihedral"] == {  # type: ignore[comparison-overlap]
        "algorithms": ["phash", "pdq"],
        "orientations": list(imghash.DIHEDRAL),
    }
    spec = httpx.get(base + "/openapi.json").json()
    get = spec["paths"]["/v1/compare"]["get"]
    names = {p["name"]: p for p in get["parameters"]}
    assert names["dihedral"]["schema"]["type"] == "boolean"
    assert "pdq" in names["algorithm"]["schema"]["anyOf"][0]["enum"]
    hash_names = {p["name"] for p in spec["paths"]["/v1/hash"]["get"]["parameters"]}
    assert "dihedral" not in hash_names  # compare's option only
    schemas = spec["components"]["schemas"]
    assert {"pdq", "quality"} <= set(schemas["HashData"]["properties"])
    assert {"quality", "orientation"} <= set(schemas["CompareData"]["properties"])
