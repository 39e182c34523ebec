"""The CLI says when pHash bits are rounding noise: hash, compare, search and dupes (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from imghash.cli import main
from tests.helpers import encode, photo_like
from tests.patterns import checkerboard


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    folder = tmp_path / "pictures"
    folder.mkdir()
    board = checkerboard(240, 240, 30)
    (folder / "board.png").write_bytes(encode(board))
    (folder / "board-copy.png").write_bytes(encode(board))
    copy = board.convert("RGB").resize((160, 160), Image.Resampling.BICUBIC)
    (folder / "board-small.jpg").write_bytes(encode(copy, "JPEG", quality=70))
    (folder / "photo.png").write_bytes(encode(photo_like(160, 120, seed=3)))
    return folder


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_hash_json_says_unstable_bits_only_when_there_are_some(
    pictures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hash", "--json", str(pictures / "board.png"), str(pictures / "photo.png")]) == 0
    board, photo = lines(capsys.readouterr().out)
    assert board["unstable_bits"]["phash"] > 32  # type: ignore[index]
    assert board["low_information"] is True
    assert set(photo) == {"source", "ahash", "dhash", "phash"}


def test_hash_text_notes_unstable_bits(pictures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash", str(pictures / "board.png")]) == 0
    assert "unstable phash bits)" in capsys.readouterr().out


def test_compare_says_which_algorithms_decided(
    pictures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = str(pictures / "board.png"), str(pictures / "board-small.jpg")
    assert main(["compare", a, b]) == 0  # likely the same
    out = capsys.readouterr().out
    assert "likely same: yes (decided by ahash, dhash)" in out
    assert "of image1's phash bits are rounding noise" in out
    assert main(["compare", "--json", a, b]) == 0
    [verdict] = lines(capsys.readouterr().out)
    assert verdict["decided_by"] == ["ahash", "dhash"]
    assert verdict["unstable_bits"]["image1"]["phash"] > 2  # type: ignore[index]


def test_search_says_when_the_query_is_unstable(
    pictures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "index.db")
    assert (
        main(["index", "--db", db, str(pictures / "board.png"), str(pictures / "photo.png")]) == 0
    )
    capsys.readouterr()
    assert main(["search", "--db", db, "--json", str(pictures / "board.png")]) == 0
    [answer] = lines(capsys.readouterr().out)
    assert answer["query"]["unstable_bits"] > 2  # type: ignore[index]
    assert main(["search", "--db", db, str(pictures / "board.png")]) == 0
    assert "of the query's phash bits are rounding noise" in capsys.readouterr().err
    assert main(["search", "--db", db, "--json", str(pictures / "photo.png")]) == 0
    [answer] = lines(capsys.readouterr().out)
    assert "unstable_bits" not in answer["query"]  # type: ignore[operator]


def test_dupes_groups_a_pattern_with_its_copies(
    pictures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # candidates by aHash, then the likely-same rule, which aHash and dHash decide
    assert main(["dupes", "--json", "-a", "ahash", str(pictures)]) == 0
    groups = [line["group"] for line in lines(capsys.readouterr().out)]
    boards = ["board-copy.png", "board-small.jpg", "board.png"]
    assert groups == [[str(pictures / name) for name in boards]]
    # by pHash distance alone, a noise-decided hash matches nothing, not even its copy
    assert main(["dupes", "--json", "-a", "phash", "-k", "16", str(pictures)]) == 0
    assert not [line for line in lines(capsys.readouterr().out) if "group" in line]
