"""The SQLite index as a file (issue 10): searched read-only, and damage found and explained."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

import imghash
from imghash.index import FILE_BUCKET, IndexRecord, SQLiteStore
from tests.helpers import encode, need, photo_like

IMGHASH = Path(sys.executable).with_name("imghash")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IMGHASH), *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of three pictures and its index, in a folder of the index's own."""
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for seed in range(3):
        (pictures / f"p{seed}.png").write_bytes(encode(photo_like(96, 64, seed=seed), "PNG"))
    db = tmp_path / "db" / "index.db"
    assert run("index", "--db", str(db), str(pictures)).returncode == 0
    return pictures, db


def state(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file of ``folder``: its content's digest and modification time."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


def chattr_works(where: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    probe = where / "probe"
    probe.write_bytes(b"")
    made = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, check=False)
    subprocess.run(["chattr", "-i", str(probe)], capture_output=True, check=False)
    probe.unlink()
    return made.returncode == 0


@pytest.fixture
def immutable(indexed: tuple[Path, Path]) -> Iterator[Path]:
    """The index file and its folder made immutable: even root can write or create nothing."""
    _, db = indexed
    need(chattr_works(db.parent), "chattr +i is not available on this file system (e2fsprogs)")
    subprocess.run(["chattr", "+i", str(db), str(db.parent)], check=True)
    try:
        yield db
    finally:
        subprocess.run(["chattr", "-i", str(db), str(db.parent)], check=True)


def test_search_needs_no_write_access(indexed: tuple[Path, Path], immutable: Path) -> None:
    pictures, db = indexed
    with pytest.raises(PermissionError):  # the proof that nothing can be written here
        (db.parent / "probe").write_bytes(b"")
    done = run("search", "--db", str(db), "-k", "0", str(pictures / "p1.png"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", str((pictures / "p1.png").resolve())]
    assert "among 3 indexed images" in done.stderr


def test_search_writes_and_creates_nothing(indexed: tuple[Path, Path]) -> None:
    pictures, db = indexed
    before = state(db.parent)
    assert list(before) == ["index.db"]  # no -wal, -shm or -journal left by the writer
    phash = imghash.hash_image(pictures / "p0.png").hashes["phash"].hex()
    for args in (["--json", phash], [str(pictures / "p2.png")]):
        assert run("search", "--db", str(db), *args).returncode == 0
    assert state(db.parent) == before


def test_an_index_left_in_wal_mode_is_converted_by_the_next_index_run(
    indexed: tuple[Path, Path],
) -> None:
    pictures, db = indexed
    with closing(sqlite3.connect(db)) as connection:  # as earlier versions left it
        connection.execute("PRAGMA journal_mode=WAL")
    assert run("index", "--db", str(db), str(pictures)).returncode == 0
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def damaged_copy(tmp_path: Path, page: int) -> Path:
    """An index of 400 records whose page ``page`` (of 4096 bytes) is zeroed."""
    db = tmp_path / "damaged.db"
    SQLiteStore(db).put_many(
        IndexRecord(
            FILE_BUCKET,
            f"/elsewhere/photo-{n:04}.jpg",
            "1:1",
            1,
            "jimp",
            hashes={"phash": imghash.Hash(n * 2654435761 % 2**64)},
        )
        for n in range(400)
    )
    size = db.stat().st_size
    assert size >= 4096 * (page + 2), size
    with db.open("r+b") as file:
        file.seek(4096 * page)
        file.write(bytes(4096))
    return db


def test_index_reports_a_damaged_file_with_its_fix(
    indexed: tuple[Path, Path], tmp_path: Path
) -> None:
    pictures, _ = indexed
    db = damaged_copy(tmp_path, page=5)
    done = run("index", "--db", str(db), str(pictures))
    assert done.returncode == 1
    assert "(index_corrupt)" in done.stderr
    assert f"delete it and index your folders again (imghash index --db {db} FOLDER)" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
    done = run("search", "--db", str(db), "0123456789abcdef")
    assert done.returncode == 1
    assert "(index_corrupt)" in done.stderr


def test_quick_check_finds_damage_no_query_touched(tmp_path: Path) -> None:
    db = damaged_copy(tmp_path, page=5)
    store = SQLiteStore(db)
    assert store.get(FILE_BUCKET, "/nowhere") is None  # a lookup that misses the page
    with pytest.raises(imghash.IndexCorrupt, match="quick_check"):
        store.check()


def test_a_file_that_is_not_an_index(tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    picture.write_bytes(encode(photo_like(), "PNG"))
    before = state(tmp_path)
    done = run("search", "--db", str(picture), "0123456789abcdef")
    assert done.returncode == 1
    assert "(index_corrupt)" in done.stderr
    assert state(tmp_path) == before
    other = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE t (x)")
    done = run("search", "--db", str(other), "0123456789abcdef")
    assert done.returncode == 1
    assert "without the index's tables" in done.stderr
    os.remove(other)
