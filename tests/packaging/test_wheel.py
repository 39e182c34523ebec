"""The wheel as a user gets it: built from the source tree, installed non-editable, run.

The editable install of ``make setup`` reads the source tree, so it hides a wheel that leaves
modules out (issue 7: no ``imghash.index`` nor ``imghash.web``). Here the wheel is built offline
from a copy of the tree (``--no-build-isolation``: the development environment's setuptools),
checked to hold every file of the package, installed with ``--no-deps`` into a brand-new
virtual environment, and its command and server are run from there.

The new environment borrows its dependencies from the development one: a ``.pth`` line puts the
development site-packages *after* its own, so the test needs no network while the wheel's copy
of imghash still comes first (checked), and the wheel's declared requirements (with the
``web``, ``serve`` and ``heif`` extras) are checked against the versions it borrows.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

import imghash
from tests.helpers import encode, photo_like
from tests.servers import api_server

pytestmark = [pytest.mark.wheel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "imghash" / "imghash"
DIST_NAME = "imghash-service"
PIP = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]


def _tree_files() -> list[Path]:
    """The files of the working tree that git would commit (tracked or new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [Path(name) for name in listed.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the tree (the build writes build/ and egg-info)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    for name in _tree_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    offline = ["--no-deps", "--no-build-isolation", "--no-index"]
    build = subprocess.run(
        [*PIP, "wheel", *offline, "--wheel-dir", str(base / "dist"), str(source)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    [built] = (base / "dist").glob("*.whl")
    return built


@dataclass(frozen=True)
class Venv:
    """A fresh virtual environment holding the wheel."""

    path: Path
    python: Path
    command: Path


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    path = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    install = subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    borrowed = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    # A name after "zz" so that its lines land after everything of the environment's own.
    (Path(own) / "zz_borrowed_dependencies.pth").write_text("\n".join(borrowed) + "\n")
    return Venv(path, python, path / "bin" / "imghash")


def test_the_wheel_holds_every_file_of_the_package(wheel: Path) -> None:
    sources = {
        name.relative_to("layers/imghash").as_posix()
        for name in _tree_files()
        if name.is_relative_to("layers/imghash/imghash") and "__pycache__" not in name.parts
    }
    assert "imghash/index/__init__.py" in sources
    assert "imghash/web/__init__.py" in sources
    assert "imghash/py.typed" in sources
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(archive.read(metadata))
    assert sources <= names, sorted(sources - names)
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"imghash"}  # nothing stray
    assert meta["Name"] == DIST_NAME
    assert meta["Version"] == imghash.__version__


def test_the_wheel_is_what_runs_and_its_requirements_hold(venv: Venv) -> None:
    check = """
import importlib.metadata as md, json
from packaging.requirements import Requirement
import imghash, imghash.index, imghash.web
dist = md.distribution("imghash-service")
unmet = []
for line in dist.requires or []:
    req = Requirement(line)
    wanted = ("", "web", "serve", "heif")
    if req.marker and not any(req.marker.evaluate({"extra": e}) for e in wanted):
        continue
    try:
        found = md.version(req.name)
    except md.PackageNotFoundError:
        unmet.append(f"{req}: not installed")
        continue
    if not req.specifier.contains(found, prereleases=True):
        unmet.append(f"{req}: {found} found")
print(json.dumps({"file": imghash.__file__, "web": imghash.web.__file__, "unmet": unmet}))
"""
    run = subprocess.run(
        [str(venv.python), "-c", check], capture_output=True, text=True, cwd=venv.path
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert Path(found["file"]).is_relative_to(venv.path), found  # the wheel's copy, not ours
    assert Path(found["web"]).is_relative_to(venv.path), found
    assert found["unmet"] == []


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder: a.jpg, its resized copy b.png, and a different picture c.png."""
    work = tmp_path_factory.mktemp("work")
    photos = work / "photos"
    photos.mkdir()
    picture = photo_like(240, 180, seed=1)
    (photos / "a.jpg").write_bytes(encode(picture, "JPEG", quality=90))
    resized = picture.resize((160, 120), Image.Resampling.BICUBIC)
    (photos / "b.png").write_bytes(encode(resized, "PNG"))
    (photos / "c.png").write_bytes(encode(photo_like(240, 180, seed=7), "PNG"))
    return work


@pytest.fixture(scope="module")
def env(pictures: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IMGHASH_DB")}
    return {**base, "IMGHASH_DB": str(pictures / "index.db")}


def run(venv: Venv, env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv.command), *args], capture_output=True, text=True, env=env, cwd=cwd
    )


def test_the_command_hashes_compares_indexes_searches_and_groups(
    venv: Venv, env: dict[str, str], pictures: Path
) -> None:
    photos = pictures / "photos"
    expected = {
        name: imghash.hash_image(photos / name).hex() for name in ("a.jpg", "b.png", "c.png")
    }

    hashed = run(venv, env, pictures, "hash", "--json", "photos/a.jpg", "photos/c.png")
    assert hashed.returncode == 0, hashed.stderr
    got = [json.loads(line) for line in hashed.stdout.splitlines()]
    assert got == [
        {"source": "photos/a.jpg", **expected["a.jpg"]},
        {"source": "photos/c.png", **expected["c.png"]},
    ]

    compared = run(venv, env, pictures, "compare", "--json", "photos/a.jpg", "photos/b.png")
    assert compared.returncode == 0, compared.stderr
    assert json.loads(compared.stdout)["likely_same"] is True

    indexed = run(venv, env, pictures, "index", "photos")
    assert indexed.returncode == 0, indexed.stderr
    assert Path(env["IMGHASH_DB"]).is_file()

    searched = run(venv, env, pictures, "search", "photos/a.jpg")
    assert searched.returncode == 0, searched.stderr
    found = {Path(line.split()[-1]).name for line in searched.stdout.splitlines()}
    assert found == {"a.jpg", "b.png"}

    grouped = run(venv, env, pictures, "dupes", "photos")
    assert grouped.returncode == 0, grouped.stderr
    assert "a.jpg" in grouped.stdout
    assert "b.png" in grouped.stdout
    assert "c.png" not in grouped.stdout


@pytest.fixture(scope="module")
def server(venv: Venv, env: dict[str, str], pictures: Path) -> Iterator[str]:
    with api_server(env, python=str(venv.python), cwd=str(pictures)) as (url, _lines):
        yield url


def test_the_server_answers_from_the_wheel(
    server: str, pictures: Path, env: dict[str, str], venv: Venv
) -> None:
    data = (pictures / "photos" / "a.jpg").read_bytes()
    expected = imghash.hash_image(data).hex()
    answer = httpx.post(server + "/v1/hash", content=data, timeout=30).json()
    assert answer["success"] is True, answer
    assert answer["data"] == expected

    run(venv, env, pictures, "index", "photos")  # the search below needs the index
    search = httpx.get(server + "/v1/search", params={"hash": expected["phash"]}, timeout=30)
    matches = search.json()["data"]["matches"]
    assert {Path(m["key"]).name for m in matches} == {"a.jpg", "b.png"}
