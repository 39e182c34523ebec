"""``imghash search -a pdq`` and ``--dihedral`` on a real SQLite index (issue 11, 3-4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

import imghash
from imghash.cli import main
from tests.helpers import encode


@pytest.fixture
def db(corpus: Path, tmp_path: Path) -> tuple[str, list[Path]]:
    photos = [
        (corpus / "photos" / name).resolve()
        for name in ("DSCN0010.jpg", "DSCN0012.jpg", "canon-ixus.jpg")
    ]
    location = str(tmp_path / "index.db")
    assert main(["index", "--db", location, *map(str, photos)]) == 0
    return location, photos


def answer(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    [line] = capsys.readouterr().out.splitlines()
    return json.loads(line)  # type: ignore[no-any-return]


def test_pdq_search_by_image_and_by_hex(
    db: tuple[str, list[Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    location, photos = db
    capsys.readouterr()
    expected = imghash.hash_image(photos[1], algorithms="pdq")
    assert main(["search", "--db", location, "-a", "pdq", "--json", str(photos[1])]) == 0
    by_image = answer(capsys)
    assert by_image["query"] == {
        "source": str(photos[1]),
        "algorithm": "pdq",
        "hash": expected.hex()["pdq"],
        "max_distance": 31,
        "quality": expected.quality["pdq"],
    }
    assert [(m["key"], m["distance"]) for m in by_image["matches"]] == [(str(photos[1]), 0)]  # type: ignore[attr-defined]
    assert main(["search", "--db", location, "-a", "pdq", expected.hex()["pdq"]]) == 0
    out, err = capsys.readouterr()
    assert out.split()[:2] == ["0", str(photos[1])]
    assert "1 within 31 bits (pdq)" in err


def test_a_mirrored_copy_is_found_only_with_dihedral(
    db: tuple[str, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    location, photos = db
    with Image.open(photos[0]) as image:
        mirrored = image.convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    query = tmp_path / "mirrored.png"
    query.write_bytes(encode(mirrored, "PNG"))
    capsys.readouterr()
    assert main(["search", "--db", location, "-a", "pdq", "--json", str(query)]) == 0
    assert answer(capsys)["matches"] == []
    assert main(["search", "--db", location, "-a", "pdq", "--dihedral", "--json", str(query)]) == 0
    turned = answer(capsys)
    assert turned["query"]["dihedral"] is True  # type: ignore[index]
    [match] = turned["matches"]  # type: ignore[misc]
    assert (match["key"], match["orientation"]) == (str(photos[0]), "flipy")
    assert main(["search", "--db", location, "-a", "phash", "--dihedral", str(query)]) == 0
    out, err = capsys.readouterr()
    assert f"{photos[0]}  (flipy)" in out
    assert "every orientation" in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-a", "pdq", "4edbd88c49eaf808"], "a pdq hash is 64 hex digits"),
        (["-a", "pdq", "--dihedral", "ab" * 32], "needs an image, not a hash"),
        (["-a", "ahash", "--dihedral", "{photo}"], "needs phash or pdq, not ahash"),
        (["-a", "phash", "-k", "20", "{photo}"], "outside 0..16 for phash"),
    ],
)
def test_usage_errors(
    db: tuple[str, list[Path]],
    args: list[str],
    fragment: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    location, photos = db
    capsys.readouterr()
    given = [a.replace("{photo}", str(photos[0])) for a in args]
    assert main(["search", "--db", location, *given]) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "(invalid_request)" in err


def test_the_radius_follows_the_width(
    db: tuple[str, list[Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    location, _ = db
    assert main(["search", "--db", location, "-a", "pdq", "-k", "64", "00" * 32]) == 0
    with pytest.raises(SystemExit) as exit_:
        main(["search", "--db", location, "-a", "pdq", "-k", "65", "00" * 32])
    assert exit_.value.code == 2
    assert "outside 0..64" in capsys.readouterr().err


def test_a_low_quality_query_says_so(
    db: tuple[str, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    location, _ = db
    flat = tmp_path / "flat.png"
    flat.write_bytes(encode(Image.new("RGB", (64, 48), (90, 90, 90)), "PNG"))
    quality = imghash.hash_image(flat, algorithms="pdq").quality["pdq"]
    assert quality < 50
    capsys.readouterr()
    assert main(["search", "--db", location, "-a", "pdq", str(flat)]) == 0
    assert f"quality is {quality}, under 50" in capsys.readouterr().err
    assert main(["search", "--db", location, "-a", "pdq", "--json", str(flat)]) == 0
    query = answer(capsys)["query"]
    assert (query["quality"], query["low_information"]) == (quality, True)  # type: ignore[index]
