"""The same tools on a PostgreSQL index: ``imghash index|search|rebuild --db postgresql://``
and the local server with ``IMGHASH_DATABASE_URL``, on the real test server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from imghash.cli import main
from imghash.index import PostgresStore
from tests.helpers import encode, photo_like
from tests.servers import api_server

IMGHASH = Path(sys.executable).with_name("imghash")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for seed in range(4):
        (pictures / f"p{seed}.png").write_bytes(encode(photo_like(160, 120, seed=seed), "PNG"))
    return pictures


def test_cli_index_search_and_rebuild(
    folder: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", "--db", pg_url, str(folder)]) == 0
    assert "4 hashed" in capsys.readouterr().err
    target = folder / "p2.png"
    assert main(["search", "--db", pg_url, "--json", "-k", "0", str(target)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [m["key"] for m in answer["matches"]] == [str(target.resolve())]
    assert answer["indexed"] == 4
    assert main(["rebuild", "--db", pg_url, "--substrings", "3"]) == 0
    assert "3 substrings of 22/21/21 bits" in capsys.readouterr().err
    assert main(["search", "--db", pg_url, "--json", "-k", "0", str(target)]) == 0
    assert json.loads(capsys.readouterr().out)["matches"] == answer["matches"]


def test_cli_rebuild_takes_3_to_8_substrings(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["rebuild", "--db", pg_url, "--substrings", "2"])
    assert done.value.code == 2
    assert "outside 3..8" in capsys.readouterr().err


def test_cli_rebuild_refuses_a_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rebuild", "--db", str(tmp_path / "i.db"), "--substrings", "3"]) == 2
    assert "not a PostgreSQL index" in capsys.readouterr().err


def test_cli_says_clearly_when_postgres_is_away(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://me:hunter2@/imghash?host={tmp_path}&connect_timeout=2"
    assert main(["search", "--db", url, "0000000000000000"]) == 1
    err = capsys.readouterr().err
    assert "index_unavailable" in err
    assert "hunter2" not in err


def test_the_local_server_searches_postgres_and_sees_new_images_at_once(
    folder: Path, pg_url: str
) -> None:
    first = [str(IMGHASH), "index", "--db", pg_url, str(folder / "p0.png")]
    subprocess.run(first, check=True, capture_output=True)
    store = PostgresStore.connect(pg_url)
    p1 = store.get("file", str((folder / "p0.png").resolve()))
    store.close()
    assert p1 is not None
    with api_server({"IMGHASH_DATABASE_URL": pg_url, "IMGHASH_DB": "/nonexistent/x.db"}) as (
        base,
        _,
    ):
        params = {"hash": p1.hashes["phash"].hex(), "max_distance": 0}
        data = httpx.get(base + "/v1/search", params=params).json()["data"]
        assert [Path(m["key"]).name for m in data["matches"]] == ["p0.png"]
        assert data["indexed"] == 1
        subprocess.run(
            [str(IMGHASH), "index", "--db", pg_url, str(folder)], check=True, capture_output=True
        )
        data = httpx.get(base + "/v1/search", params=params).json()["data"]
        assert data["indexed"] == 4  # no restart, no wait
