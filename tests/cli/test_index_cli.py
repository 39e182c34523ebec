"""``imghash index``, ``search`` and ``dupes`` on a folder and a real SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import imghash
from imghash.cli import main
from tests.helpers import encode, photo_like

IMGHASH = Path(sys.executable).with_name("imghash")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    pictures = tmp_path / "pictures"
    (pictures / "nested").mkdir(parents=True)
    for seed in range(4):
        (pictures / f"p{seed}.png").write_bytes(encode(photo_like(160, 120, seed=seed), "PNG"))
    copy = photo_like(160, 120, seed=2).resize((80, 60), Image.Resampling.BILINEAR)
    (pictures / "nested" / "p2-small.jpg").write_bytes(encode(copy, "JPEG", quality=75))
    (pictures / "nested" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    return pictures


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_index_then_search(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "index.db")
    assert main(["index", "--db", db, str(folder)]) == 1  # the broken file is reported
    err = capsys.readouterr().err
    assert "5 hashed, 0 unchanged, 1 not images, 0 failed" in err
    assert main(["index", "--db", db, str(folder)]) == 1
    assert "0 hashed, 5 unchanged" in capsys.readouterr().err  # nothing read again

    assert main(["search", "--db", db, "--json", str(folder / "p2.png")]) == 0
    [answer] = lines(capsys.readouterr().out)
    keys = [Path(m["key"]).name for m in answer["matches"]]  # type: ignore[index, union-attr]
    assert keys == ["p2.png", "p2-small.jpg"]
    assert answer["indexed"] == 5

    phash = imghash.hash_image(folder / "p0.png").hashes["phash"].hex()
    assert main(["search", "--db", db, "-k", "0", phash]) == 0
    out = capsys.readouterr().out
    assert out.split() == ["0", str((folder / "p0.png").resolve())]


def test_dupes_groups_the_resized_copy(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["dupes", "--json", str(folder)])
    groups = [line["group"] for line in lines(capsys.readouterr().out) if "group" in line]
    assert groups == [[str(folder / "nested" / "p2-small.jpg"), str(folder / "p2.png")]]


def test_search_with_the_real_command_and_a_bad_distance(folder: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "i.db")
    subprocess.run(
        [str(IMGHASH), "index", "--db", db, str(folder / "p1.png")], check=True, capture_output=True
    )
    done = subprocess.run(
        [str(IMGHASH), "search", "--db", db, str(folder / "p1.png")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.split()[0] == "0"
    bad = subprocess.run(
        [str(IMGHASH), "search", "-k", "99", "--db", db, "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "outside 0..16" in bad.stderr
