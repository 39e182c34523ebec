"""The HTTP API says when pHash bits are rounding noise: hash, compare and search (issue 9)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

import imghash
from tests.helpers import encode, photo_like
from tests.patterns import checkerboard
from tests.servers import api_server

IMGHASH = Path(sys.executable).with_name("imghash")
BOARD = encode(checkerboard(240, 240, 30))
BOARD_SMALL = encode(
    checkerboard(240, 240, 30).convert("RGB").resize((160, 160), Image.Resampling.BICUBIC),
    "JPEG",
    quality=70,
)
PHOTO = encode(photo_like(160, 120, seed=4))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("indexed")
    (folder / "board.png").write_bytes(BOARD)
    (folder / "photo.png").write_bytes(PHOTO)
    db = folder / "index.db"
    subprocess.run([str(IMGHASH), "index", "--db", str(db), str(folder)], check=True)
    with api_server({"IMGHASH_DB": str(db)}) as (url, _):
        yield url


def data(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def test_hash_says_unstable_bits_only_when_there_are_some(base: str) -> None:
    board = data(httpx.post(base + "/v1/hash", content=BOARD))
    expected = imghash.hash_image(BOARD)
    noisy = expected.unstable_bits["phash"]
    assert noisy > 32  # mostly noise (the count itself is checked against exact arithmetic)
    assert board == {**expected.hex(), "low_information": True, "unstable_bits": {"phash": noisy}}
    photo = data(httpx.post(base + "/v1/hash", content=PHOTO))
    assert set(photo) == {"ahash", "dhash", "phash"}  # the seed's shape
    only_ahash = data(httpx.post(base + "/v1/hash?algorithm=ahash", content=BOARD))
    assert only_ahash == {"ahash": expected.hex()["ahash"], "low_information": True}


def test_compare_leaves_out_a_noisy_phash(base: str) -> None:
    verdict = data(
        httpx.post(
            base + "/v1/compare",
            files={"image1": ("a.png", BOARD), "image2": ("b.jpg", BOARD_SMALL)},
        )
    )
    assert verdict == imghash.compare_images(BOARD, BOARD_SMALL).to_dict()
    assert verdict["likely_same"] is True
    assert verdict["decided_by"] == ["ahash", "dhash"]
    assert verdict["unstable_bits"]["image1"]["phash"] > 2  # type: ignore[index]
    photos = data(
        httpx.post(
            base + "/v1/compare", files={"image1": ("a.png", PHOTO), "image2": ("b.png", PHOTO)}
        )
    )
    assert photos["decided_by"] == ["ahash", "dhash", "phash"]
    assert photos["unstable_bits"] == {"image1": {"phash": 0}, "image2": {"phash": 0}}


def test_search_says_when_the_query_is_unstable(base: str) -> None:
    found = data(httpx.post(base + "/v1/search", content=BOARD))
    noisy = imghash.hash_image(BOARD).unstable_bits["phash"]
    assert found["query"]["unstable_bits"] == noisy  # type: ignore[index]
    assert "unstable_bits" not in data(httpx.post(base + "/v1/search", content=PHOTO))["query"]  # type: ignore[operator]
    by_hash = data(httpx.get(base + "/v1/search", params={"hash": "0" * 16}))
    assert "unstable_bits" not in by_hash["query"]  # type: ignore[operator]


def test_meta_states_the_rule(base: str) -> None:
    rule = data(httpx.get(base + "/v1/meta"))["likely_same"]
    assert rule["max_unstable_bits"] == 2  # type: ignore[index]
