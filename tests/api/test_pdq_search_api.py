"""PDQ and dihedral search through a real server and a real SQLite index (issue 11, 3-4)."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

import imghash
from imghash.cli import main
from tests.helpers import TURNS, encode
from tests.servers import api_server

#: Corpus photos of different scenes, indexed as they are.
PHOTOS = ("DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg", "canon-ixus.jpg", "nikon-e950.jpg")


@pytest.fixture(scope="module")
def indexed(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The files in the index: the photos, the bridge, and near copies of one photo (so
    that a search at a wide radius finds several records, at several distances)."""
    folder = tmp_path_factory.mktemp("pdq-index")
    files = [(corpus / "photos" / name).resolve() for name in PHOTOS]
    files.append((corpus / "pdq/reg-test-input/dih/bridge-1-original.jpg").resolve())
    with Image.open(files[0]) as image:
        rgb = image.convert("RGB")
    for quality, scale in ((30, 1.0), (60, 0.5), (15, 0.3)):
        copy = rgb.resize((int(rgb.width * scale), int(rgb.height * scale)))
        path = folder / f"copy-q{quality}.jpg"
        path.write_bytes(encode(copy, "JPEG", quality=quality))
        files.append(path)
    return files


@pytest.fixture(scope="module")
def base(indexed: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("pdq-db") / "index.db"
    assert main(["index", "--db", str(db), *map(str, indexed)]) == 0
    with api_server({"IMGHASH_DB": str(db)}) as (url, _):
        yield url


@pytest.fixture(scope="module")
def stored(indexed: list[Path]) -> dict[str, imghash.Hash]:
    """Each indexed file's PDQ hash, hashed here (what the records should hold)."""
    return {str(p): imghash.hash_image(p, algorithms="pdq").hashes["pdq"] for p in indexed}


def data(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def refused(response: httpx.Response, fragment: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert fragment in error["message"], error["message"]


def found(answer: dict[str, object]) -> list[tuple[str, int]]:
    return [(m["key"], m["distance"]) for m in answer["matches"]]  # type: ignore[attr-defined]


def brute_force(
    stored: Mapping[str, imghash.Hash], queries: Mapping[str, imghash.Hash], k: int
) -> list[tuple[str, int, str]]:
    """(key, distance, orientation) of every record within ``k`` of some query, by
    popcount over every stored hash: nearest first, ties by key; a record's orientation
    is the first query (in the given order) at its distance."""
    hits = []
    for key, value in stored.items():
        distances = [((value.value ^ q.value).bit_count(), n) for n, q in queries.items()]
        nearest = min(d for d, _ in distances)
        if nearest <= k:
            hits.append((key, nearest, next(n for d, n in distances if d == nearest)))
    return sorted(hits, key=lambda hit: (hit[1], hit[0]))


def test_pdq_search_by_image_and_by_hex(base: str, indexed: list[Path]) -> None:
    photo = indexed[0]
    expected = imghash.hash_image(photo, algorithms="pdq")
    by_image = data(httpx.post(base + "/v1/search?algorithm=pdq", content=photo.read_bytes()))
    assert found(by_image)[0] == (str(photo), 0)
    assert by_image["query"] == {
        "algorithm": "pdq",
        "hash": expected.hex()["pdq"],
        "max_distance": 31,  # Meta's threshold, PDQ's likely-same limit
        "limit": 20,
        "profile": "jimp",
        "quality": expected.quality["pdq"],
    }
    hex_digits = expected.hex()["pdq"]
    assert len(hex_digits) == 64
    by_hex = data(httpx.get(base + "/v1/search", params={"hash": hex_digits, "algorithm": "pdq"}))
    assert found(by_hex)[0] == (str(photo), 0)
    assert "orientation" not in by_hex["matches"][0]  # type: ignore[index]
    assert by_hex["indexed"] == len(indexed)
    assert (
        data(
            httpx.get(
                base + "/v1/search",
                params={"hash": "0x" + hex_digits.upper(), "algorithm": "pdq", "limit": 1},
            )
        )["count"]
        == 1
    )


@pytest.mark.parametrize(
    "transpose",
    [
        Image.Transpose.FLIP_LEFT_RIGHT,
        Image.Transpose.ROTATE_90,
        Image.Transpose.TRANSPOSE,
        Image.Transpose.ROTATE_180,
    ],
)
def test_a_turned_copy_is_found_only_with_dihedral(
    base: str, indexed: list[Path], transpose: Image.Transpose
) -> None:
    photo = indexed[1]
    with Image.open(photo) as image:
        rgb = image.convert("RGB")
    turned = rgb.transpose(transpose)
    # The orientation named is the turn that takes the query back to the indexed image.
    original, query = np.asarray(rgb), np.asarray(turned)
    [name] = [n for n, turn in TURNS.items() if np.array_equal(turn(query), original)]
    body = encode(turned, "PNG")
    plain = data(httpx.post(base + "/v1/search?algorithm=pdq", content=body))
    assert str(photo) not in [key for key, _ in found(plain)]
    assert "dihedral" not in plain["query"]  # type: ignore[operator]
    for response in (
        httpx.post(base + "/v1/search?algorithm=pdq&dihedral=true", content=body),
        httpx.post(
            base + "/v1/search",
            files={"image": ("q.png", body)},
            data={"algorithm": "pdq", "dihedral": "on"},
        ),
        httpx.post(
            base + "/v1/search",
            json={"image": base64.b64encode(body).decode(), "algorithm": "pdq", "dihedral": True},
        ),
    ):
        turned_answer = data(response)
        first = turned_answer["matches"][0]  # type: ignore[index]
        assert (first["key"], first["orientation"]) == (str(photo), name)
        assert first["distance"] <= 31
        assert turned_answer["query"]["dihedral"] is True  # type: ignore[index]
        # The echo's hash is the query image's own (its "original" orientation).
        own = imghash.hash_image(body, algorithms="pdq").hex()["pdq"]
        assert turned_answer["query"]["hash"] == own  # type: ignore[index]


def test_dihedral_by_get_and_with_phash(base: str, indexed: list[Path]) -> None:
    with Image.open(indexed[2]) as image:  # a query string holds small images only
        mirrored = (
            image.convert("RGB").resize((160, 120)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        )
    encoded = base64.b64encode(encode(mirrored, "JPEG", quality=90)).decode()
    for algorithm in ("pdq", "phash"):
        answer = data(
            httpx.get(
                base + "/v1/search",
                params={"image": encoded, "algorithm": algorithm, "dihedral": "1"},
            )
        )
        first = answer["matches"][0]  # type: ignore[index]
        assert Path(first["key"]).name == "DSCN0021.jpg"
        assert first["orientation"] == "flipy"


def test_search_equals_a_brute_force_scan(
    base: str, indexed: list[Path], stored: dict[str, imghash.Hash]
) -> None:
    assert stored[str(indexed[0])] - stored[str(indexed[-1])] > 0  # copies at a distance
    rng = np.random.default_rng(11)
    noise = imghash.Hash(int.from_bytes(rng.bytes(32), "big"), 256)
    near = imghash.Hash(stored[str(indexed[0])].value ^ 0b1011 << 200, 256)
    for query in (stored[str(indexed[0])], stored[str(indexed[3])], noise, near):
        for k in (0, 10, 31, 64):
            answer = data(
                httpx.get(
                    base + "/v1/search",
                    params={
                        "hash": query.hex(),
                        "algorithm": "pdq",
                        "max_distance": k,
                        "limit": 1000,
                    },
                )
            )
            expected = brute_force(stored, {"": query}, k)
            assert found(answer) == [(key, d) for key, d, _ in expected]
    # A dihedral search is the eight hashes' search, each record at its nearest turn.
    with Image.open(indexed[0]) as image:
        turned = encode(image.convert("RGB").transpose(Image.Transpose.ROTATE_270), "PNG")
    eight = dict(
        zip(imghash.DIHEDRAL, imghash.dihedral_hashes(turned, algorithm="pdq"), strict=True)
    )
    for k in (31, 64):
        answer = data(
            httpx.post(
                base + "/v1/search",
                params={"algorithm": "pdq", "dihedral": "true", "max_distance": k, "limit": 1000},
                content=turned,
            )
        )
        expected = brute_force(stored, eight, k)
        assert len(expected) >= 2
        got = [(m["key"], m["distance"], m["orientation"]) for m in answer["matches"]]  # type: ignore[attr-defined]
        assert got == expected


def test_a_low_quality_query_says_so(base: str) -> None:
    flat = encode(Image.new("RGB", (64, 48), (90, 90, 90)), "PNG")
    query = data(httpx.post(base + "/v1/search?algorithm=pdq", content=flat))["query"]
    quality = imghash.hash_image(flat, algorithms="pdq").quality["pdq"]
    assert quality < 50
    assert query["quality"] == quality  # type: ignore[index]
    assert query["low_information"] is True  # type: ignore[index]


def test_bad_pdq_and_dihedral_searches_are_invalid_requests(
    base: str, stored: dict[str, imghash.Hash], indexed: list[Path]
) -> None:
    pdq = next(iter(stored.values())).hex()
    photo = indexed[0].read_bytes()
    search = base + "/v1/search"
    refused(
        httpx.get(search, params={"hash": "4edbd88c49eaf808", "algorithm": "pdq"}),
        "a pdq hash is 64 hex digits",
    )
    refused(httpx.get(search, params={"hash": pdq}), "a phash hash is 16 hex digits")
    refused(httpx.get(search, params={"hash": pdq[:40], "algorithm": "pdq"}), "not 40")
    refused(
        httpx.get(search, params={"hash": pdq, "algorithm": "pdq", "dihedral": "true"}),
        "needs an image, not a hash",
    )
    refused(
        httpx.post(search + "?algorithm=ahash&dihedral=true", content=photo),
        "needs phash or pdq, not ahash",
    )
    refused(httpx.post(search + "?algorithm=pdq&dihedral=maybe", content=photo), "not a boolean")
    refused(
        httpx.get(search, params={"hash": pdq, "algorithm": "pdq", "max_distance": 65}),
        "from 0 to 64",
    )
    refused(
        httpx.get(search, params={"hash": "4edbd88c49eaf808", "max_distance": 17}),
        "outside 0..16 for phash",
    )
    wide = data(httpx.get(search, params={"hash": pdq, "algorithm": "pdq", "max_distance": 64}))
    assert wide["query"]["max_distance"] == 64  # type: ignore[index]


def test_the_document_offers_pdq_and_dihedral(base: str) -> None:
    spec = httpx.get(base + "/openapi.json").json()
    for method in ("get", "post"):
        parameters = {
            p["name"]: p["schema"] for p in spec["paths"]["/v1/search"][method]["parameters"]
        }
        assert parameters["algorithm"]["anyOf"][0]["enum"] == list(imghash.ALGORITHMS)
        assert parameters["max_distance"]["anyOf"][0]["maximum"] == 64
        assert parameters["dihedral"]["type"] == "boolean"
    match = spec["components"]["schemas"]["Match"]["properties"]
    assert "orientation" in match
