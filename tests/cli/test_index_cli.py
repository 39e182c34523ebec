"""``imghash index``, ``search`` and ``dupes`` on a folder and a real SQLite file."""

from __future__ import annotations

import json
import os
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


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IMGHASH), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={**os.environ, **env},
    )


def test_index_then_search(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "index.db")
    # A file that is not an image is recorded as such and reported: not a failure.
    assert main(["index", "--db", db, str(folder)]) == 0
    err = capsys.readouterr().err
    assert "(unsupported_image)" in err
    assert "5 hashed, 0 unchanged, 1 not images, 0 failed, 0 removed" in err
    assert main(["index", "--db", db, str(folder)]) == 0
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


def test_a_file_that_cannot_be_read_is_a_failure(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "index.db")
    assert main(["index", "--db", db, str(folder / "p0.png"), str(folder / "gone.png")]) == 1
    assert "1 hashed, 0 unchanged, 0 not images, 1 failed" in capsys.readouterr().err


def test_an_empty_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for command in ("hash", "index", "dupes"):
        done = run(command, str(tmp_path / "empty"), IMGHASH_DB=str(tmp_path / "i.db"))
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout == ""
        assert f"no image files in {tmp_path / 'empty'}" in done.stderr


def test_reindexing_removes_deleted_files_and_search_flags_them(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "index.db")
    assert main(["index", "--db", db, str(folder)]) == 0
    capsys.readouterr()
    small = (folder / "nested" / "p2-small.jpg").resolve()
    small.unlink()
    # Before the folder is indexed again, search still knows the file, and says it is gone.
    assert main(["search", "--db", db, str(folder / "p2.png")]) == 0
    captured = capsys.readouterr()
    assert f"{small}  (missing: the file is gone)" in captured.out.splitlines()[1]
    assert "1 of them no longer exist" in captured.err
    assert main(["search", "--db", db, "--json", str(folder / "p2.png")]) == 0
    [answer] = lines(capsys.readouterr().out)
    missing = {Path(m["key"]).name: m["missing"] for m in answer["matches"]}  # type: ignore[index, union-attr]
    assert missing == {"p2.png": False, "p2-small.jpg": True}

    assert main(["index", "--db", db, "--json", str(folder)]) == 0
    captured = capsys.readouterr()
    assert {"source": str(small), "removed": True} in lines(captured.out)
    assert "0 hashed, 4 unchanged, 1 not images, 0 failed, 1 removed" in captured.err
    assert main(["search", "--db", db, "--json", str(folder / "p2.png")]) == 0
    [answer] = lines(capsys.readouterr().out)
    assert [Path(m["key"]).name for m in answer["matches"]] == ["p2.png"]  # type: ignore[index, union-attr]
    assert answer["indexed"] == 4


def test_pruning_keeps_records_outside_the_folder(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    other = tmp_path / "other"
    other.mkdir()
    (other / "o.png").write_bytes(encode(photo_like(64, 64, seed=9), "PNG"))
    assert run("index", "--db", str(db), str(folder), str(other)).returncode == 0
    (other / "o.png").unlink()
    done = run("index", "--db", str(db), str(folder))  # only `folder` is looked at
    assert "0 removed" in done.stderr
    done = run("index", "--db", str(db), str(other))
    assert "1 removed" in done.stderr


def test_dupes_groups_the_resized_copy(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dupes", "--json", str(folder)]) == 1  # broken.jpg could not be hashed
    groups = [line for line in lines(capsys.readouterr().out) if "group" in line]
    small, big = str(folder / "nested" / "p2-small.jpg"), str(folder / "p2.png")
    assert [g["group"] for g in groups] == [[small, big]]
    [pair] = groups[0]["pairs"]  # type: ignore[misc]
    hashes = [imghash.hash_image(p).hashes for p in (small, big)]
    assert pair == {
        "first": small,
        "second": big,
        "distances": {n: hashes[0][n] - hashes[1][n] for n in ("ahash", "dhash", "phash")},
    }


def test_search_with_the_real_command_and_a_bad_distance(folder: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "i.db")
    assert run("index", "--db", db, str(folder / "p1.png")).returncode == 0
    done = run("search", "--db", db, str(folder / "p1.png"))
    assert done.returncode == 0
    assert done.stdout.split()[0] == "0"
    bad = run("search", "-k", "99", "--db", db, "x")
    assert bad.returncode == 2
    assert "usage: imghash search" in bad.stderr
    assert "outside 0..64" in bad.stderr  # the widest radius (PDQ's); phash's is 0..16


def test_the_default_index_is_in_the_data_directory_wherever_the_command_runs(
    folder: Path, tmp_path: Path
) -> None:
    home, here, there = tmp_path / "data", tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    env = {"XDG_DATA_HOME": str(home), "IMGHASH_DB": ""}
    phash = imghash.hash_image(folder / "p1.png").hashes["phash"].hex()
    default = home / "imghash" / "index.db"

    # No index yet: an error that says how to make one, and no file is created anywhere.
    done = run("search", phash, cwd=there, **env)
    assert done.returncode == 1
    assert "(index_not_found)" in done.stderr
    assert "imghash index FOLDER" in done.stderr
    assert str(default) in done.stderr
    assert not home.exists()
    assert list(there.iterdir()) == []

    assert run("index", str(folder), cwd=here, **env).returncode == 0
    assert default.is_file()
    assert list(here.iterdir()) == []
    done = run("search", "-k", "0", phash, cwd=there, **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", str((folder / "p1.png").resolve())]

    # IMGHASH_DB, then --db, choose another index.
    elsewhere = tmp_path / "elsewhere.db"
    done = run("search", phash, cwd=there, **{**env, "IMGHASH_DB": str(elsewhere)})
    assert done.returncode == 1
    assert str(elsewhere) in done.stderr
    done = run("search", "--db", str(default), phash, **{**env, "IMGHASH_DB": str(elsewhere)})
    assert done.returncode == 0
    assert not elsewhere.exists()


def test_the_server_does_not_create_an_index_either(tmp_path: Path) -> None:
    import asyncio

    import httpx

    from imghash import Settings
    from imghash.web import create_app

    db = tmp_path / "nothing-here.db"
    app = create_app(settings=Settings(db_path=str(db)))

    async def search() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/v1/search", params={"hash": "4edbd88c49eaf808"})

    response = asyncio.run(search())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "index_not_found"
    assert "imghash index" in response.json()["error"]["message"]
    assert list(tmp_path.iterdir()) == []


def test_the_server_and_the_cli_share_the_default_index(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import httpx

    from imghash import Settings
    from imghash.web import create_app

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("IMGHASH_DB", raising=False)
    assert run("index", str(folder), cwd=tmp_path).returncode == 0  # no --db, no IMGHASH_DB
    app = create_app(settings=Settings.from_environ({}))  # as `make serve` builds it
    phash = imghash.hash_image(folder / "p3.png").hashes["phash"].hex()

    async def search() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/v1/search", params={"hash": phash, "max_distance": 0})

    response = asyncio.run(search())
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [m["key"] for m in data["matches"]] == [str((folder / "p3.png").resolve())]
    assert data["indexed"] == 5


def test_index_fast_hashes_jpegs_in_fast_mode_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``index --fast`` stores what fast mode computes, marked fast (a PNG, which fast mode
    hashes exactly, is not); indexing again without it hashes the JPEG exactly, and a
    later ``--fast`` run keeps the exact record."""
    folder = tmp_path / "shots"
    folder.mkdir()
    jpeg, png = folder / "big.jpg", folder / "small.png"
    # A photo whose fast pHash differs from its exact one (checked below, so that the
    # test can tell the modes apart by value, not only by the flag).
    jpeg.write_bytes(encode(photo_like(1024, 768, seed=4), "JPEG", quality=90))
    png.write_bytes(encode(photo_like(160, 120, seed=1), "PNG"))
    exact = imghash.hash_image(jpeg, algorithms="all,pdq")
    fast = imghash.hash_image(jpeg, algorithms="all,pdq", fast=True)
    assert exact.hashes != fast.hashes, "the photo no longer tells fast from exact"
    db = str(tmp_path / "index.db")

    def indexed(*more: str) -> dict[str, dict[str, object]]:
        assert main(["index", "--db", db, "--json", *more, str(folder)]) == 0
        return {Path(str(o["source"])).name: o for o in lines(capsys.readouterr().out)}

    def hexes(result: imghash.HashResult) -> dict[str, str]:
        return {name: value.hex() for name, value in result.hashes.items()}

    first = indexed("--fast")
    assert first["big.jpg"] == {"source": str(jpeg), "indexed": True, **hexes(fast), "fast": True}
    assert "fast" not in first["small.png"]
    assert indexed("--fast")["big.jpg"]["indexed"] is False  # current for a fast run

    # Searching with the exact hash finds the fast record at their true distance, marked.
    query = exact.hashes["phash"]
    distance = query.distance(fast.hashes["phash"])
    assert main(["search", "--db", db, "--json", "-k", "16", query.hex()]) == 0
    [answer] = lines(capsys.readouterr().out)
    found = {Path(m["key"]).name: m for m in answer["matches"]}  # type: ignore[union-attr]
    assert found["big.jpg"]["distance"] == distance
    assert found["big.jpg"]["fast"] is True
    assert "fast" not in found.get("small.png", {})
    assert main(["search", "--db", db, "-k", "16", query.hex()]) == 0
    assert capsys.readouterr().out.split("  ") == [
        f"{distance:>2}",
        str(jpeg.resolve()),
        "(fast mode)\n",
    ]

    second = indexed()  # without --fast: the JPEG is hashed again, exactly
    assert second["big.jpg"] == {"source": str(jpeg), "indexed": True, **hexes(exact)}
    assert second["small.png"]["indexed"] is False
    third = indexed("--fast")  # an exact record is never replaced by a fast one
    assert third["big.jpg"] == {"source": str(jpeg), "indexed": False, **hexes(exact)}
    assert main(["search", "--db", db, "--json", "-k", "0", query.hex()]) == 0
    [answer] = lines(capsys.readouterr().out)
    [match] = answer["matches"]  # type: ignore[misc]
    assert "fast" not in match
    assert match["distance"] == 0


def test_the_real_server_says_which_matches_are_gone_or_fast(folder: Path, tmp_path: Path) -> None:
    """``/v1/search`` on a real uvicorn server and a real SQLite file: a match whose file
    was deleted after indexing says ``missing: true``, the others ``missing: false``; a
    record made by ``index --fast`` says ``fast: true``; the OpenAPI schema describes both.
    """
    import httpx

    from tests.servers import api_server

    db = tmp_path / "index.db"
    big = folder / "big.jpg"
    big.write_bytes(encode(photo_like(1024, 768, seed=4), "JPEG", quality=90))
    assert run("index", "--db", str(db), "--fast", str(folder)).returncode == 0
    small = (folder / "nested" / "p2-small.jpg").resolve()
    small.unlink()
    near_p2 = imghash.hash_image(folder / "p2.png").hashes["phash"].hex()
    big_fast = imghash.hash_image(big, fast=True).hashes["phash"].hex()
    with api_server({"IMGHASH_DB": str(db)}) as (url, _):
        response = httpx.get(url + "/v1/search", params={"hash": near_p2}, timeout=30)
        assert response.status_code == 200, response.text
        found = {m["key"]: m for m in response.json()["data"]["matches"]}
        assert {key: m["missing"] for key, m in found.items()} == {
            str((folder / "p2.png").resolve()): False,
            str(small): True,
        }
        assert {key: m.get("fast", False) for key, m in found.items()} == {
            str((folder / "p2.png").resolve()): False,
            str(small): True,  # a JPEG, indexed with --fast
        }
        response = httpx.get(url + "/v1/search", params={"hash": big_fast, "max_distance": 0})
        [match] = response.json()["data"]["matches"]
        assert match["key"] == str(big.resolve())
        assert (match["fast"], match["missing"]) == (True, False)
        schema = httpx.get(url + "/openapi.json").json()["components"]["schemas"]["Match"]
        assert {"fast", "missing"} <= set(schema["properties"])
