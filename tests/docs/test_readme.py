"""Every ```sh and ```python block of README.md, run as written.

The convention (TEAM.md): each block runs from a temporary folder holding generated images
``photo.jpg``, ``a.jpg``, ``b.png`` (a near-duplicate of ``a.jpg``) and ``photos/`` (a few
pictures, ``DSCN0010.jpg`` among them, with a resized copy of it), with the virtual
environment's ``bin`` first on ``PATH`` (as ``. .venv/bin/activate`` puts it) and
``IMGHASH_DB`` inside the folder. sh blocks run through bash with ``set -e -o pipefail``,
python blocks through the environment's interpreter; both in README order, in the same folder,
as a reader's session would (``imghash index`` makes the index that ``imghash search`` reads).

A block that talks to ``http://127.0.0.1:3000`` (or ``localhost:3000``) gets a real local
server, ``python -m imghash.web`` as ``make serve`` runs it, on a free port that is put into
the block in place of 3000: this shared machine may have a server of its own on 3000, while the
README keeps the address a user has.

A block immediately preceded by the line ``<!-- readme: no-run (the reason) -->`` is not run:
its test is skipped with the reason, so ``pytest -ra`` lists every such block. A marker without
a reason, or one that is not directly above a block, fails. An sh block whose output holds an
error envelope (``"success": false``) fails too: its example does not work. Every failure
names the block's line in README.md, and tracebacks and bash errors count lines as README.md
does.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import encode, photo_like
from tests.servers import api_server

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RUN = {"sh", "python"}
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*readme:(?P<body>.*?)-->\s*$")
NO_RUN = re.compile(r"^\s*no-run\s*\((?P<reason>.*)\)\s*$")
SERVER = re.compile(r"\b(127\.0\.0\.1|localhost):3000\b")
ERROR_ENVELOPE = re.compile(r'"success"\s*:\s*false')
TIMEOUT = 120


@dataclass(frozen=True)
class Block:
    """One fenced block of README.md."""

    line: int  # of its first line of code (the line after the opening fence)
    lang: str
    code: str
    #: The reason of a ``no-run`` marker directly above the fence, if any.
    no_run: str | None


@dataclass(frozen=True)
class Marker:
    line: int
    body: str
    #: The fence on the next line, if there is one.
    fence: str | None


def parse(text: str) -> tuple[list[Block], list[Marker]]:
    """The fenced blocks of a markdown text, and its ``readme:`` markers."""
    lines = text.splitlines()
    blocks: list[Block] = []
    markers: list[Marker] = []
    index = 0
    while index < len(lines):
        marker = MARKER.match(lines[index])
        if marker:
            after = FENCE.match(lines[index + 1]) if index + 1 < len(lines) else None
            markers.append(Marker(index + 1, marker["body"].strip(), after and after["lang"]))
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not re.match(r"^\s*```\s*$", lines[end]):
            end += 1
        indent = len(fence["indent"])
        code = "\n".join(line[indent:] for line in lines[index + 1 : end]) + "\n"
        above = MARKER.match(lines[index - 1]) if index > 0 else None
        reason = None
        if above:
            no_run = NO_RUN.match(above["body"])
            reason = no_run["reason"].strip() if no_run else None
        blocks.append(Block(index + 2, fence["lang"], code, reason))
        index = end + 1
    return blocks, markers


BLOCKS, MARKERS = parse(README.read_text())
RUNNABLE = [b for b in BLOCKS if b.lang in RUN]


def test_markers_are_well_formed() -> None:
    wrong = []
    for marker in MARKERS:
        no_run = NO_RUN.match(marker.body)
        if not no_run:
            wrong.append(f"README.md:{marker.line}: expected 'no-run (the reason)'")
        elif not no_run["reason"].strip():
            wrong.append(f"README.md:{marker.line}: a no-run marker must say why in (...)")
        elif marker.fence is None:
            wrong.append(f"README.md:{marker.line}: the marker is not directly above a block")
        elif marker.fence not in RUN:
            wrong.append(f"README.md:{marker.line}: ```{marker.fence} blocks are never run")
    assert wrong == []


def test_the_parser_sees_markers_and_line_numbers() -> None:
    text = (
        "intro\n"
        "<!-- readme: no-run (needs the internet) -->\n"
        "```sh\ncurl https://example.com/\n```\n"
        "```python\nprint(1)\n```\n"
        "<!-- readme: no-run -->\n"
        "```json\n{}\n```\n"
        "<!-- readme: no-run () -->\n\n"
        "```sh\nfalse\n```\n"
    )
    blocks, markers = parse(text)
    assert [(b.line, b.lang, b.no_run) for b in blocks] == [
        (4, "sh", "needs the internet"),
        (7, "python", None),
        (11, "json", None),
        (16, "sh", None),
    ]
    assert blocks[0].code == "curl https://example.com/\n"
    assert [(m.line, m.body, m.fence) for m in markers] == [
        (2, "no-run (needs the internet)", "sh"),
        (9, "no-run", "json"),
        (13, "no-run ()", None),
    ]


# Running the blocks.


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder every block runs in, with the images the README's examples name."""
    work = tmp_path_factory.mktemp("readme")
    (work / "photo.jpg").write_bytes(encode(photo_like(640, 480, seed=20), "JPEG", quality=90))
    picture = photo_like(320, 240, seed=21)
    (work / "a.jpg").write_bytes(encode(picture, "JPEG", quality=85))
    smaller = picture.resize((240, 180), Image.Resampling.BICUBIC)
    (work / "b.png").write_bytes(encode(smaller, "PNG"))
    photos = work / "photos"
    (photos / "holiday").mkdir(parents=True)
    camera = photo_like(640, 480, seed=22)
    (photos / "DSCN0010.jpg").write_bytes(encode(camera, "JPEG", quality=90))
    copy = camera.resize((320, 240), Image.Resampling.BILINEAR)
    (photos / "DSCN0010-small.jpg").write_bytes(encode(copy, "JPEG", quality=75))
    (photos / "beach.png").write_bytes(encode(photo_like(400, 300, seed=23), "PNG"))
    (photos / "holiday" / "forest.jpg").write_bytes(encode(photo_like(500, 375, seed=24), "JPEG"))
    return work


@pytest.fixture(scope="module")
def env(workdir: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)  # the virtual environment's bin
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("IMGHASH_")}
    inherited.pop("PYTHONPATH", None)
    return {
        **inherited,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "VIRTUAL_ENV": str(Path(sys.executable).parent.parent),
        "IMGHASH_DB": str(workdir / "imghash.db"),
        "XDG_DATA_HOME": str(workdir / ".local" / "share"),  # never the user's own
    }


@pytest.fixture(scope="module")
def server(env: dict[str, str], workdir: Path) -> Iterator[Callable[[], str]]:
    """Starts the local server on first call (once), and gives its ``host:port``."""
    with contextlib.ExitStack() as stack:
        started: list[str] = []

        def address() -> str:
            if not started:
                url, _ = stack.enter_context(api_server(env, cwd=str(workdir)))
                started.append(url.removeprefix("http://"))
            return started[0]

        yield address


def failure(block: Block, what: str, run: subprocess.CompletedProcess[str] | None) -> str:
    lines = [f"README.md:{block.line}: the ```{block.lang} block {what}", block.code.rstrip()]
    if run is not None:
        lines += ["--- stdout ---", run.stdout[-3000:], "--- stderr ---", run.stderr[-3000:]]
    return "\n".join(lines)


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: f"line-{b.line}")
def test_block(block: Block, workdir: Path, env: dict[str, str], server: Callable[[], str]) -> None:
    if block.no_run is not None:
        pytest.skip(f"README.md:{block.line}: not run: {block.no_run}")
    code = block.code
    if SERVER.search(code):
        port = server().rsplit(":", 1)[1]
        code = SERVER.sub(lambda m: f"{m[1]}:{port}", code)
    # Padding puts the block's first line at its README line, so errors count as README does.
    if block.lang == "sh":
        script = "set -e -o pipefail" + "\n" * (block.line - 1) + code
        command = ["bash", "-c", script, "README.md"]
        stdin = None
    else:
        script = "\n" * (block.line - 1) + code
        command = [sys.executable, "-"]
        stdin = script
    try:
        run = subprocess.run(
            command,
            input=stdin,
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(failure(block, f"ran for more than {TIMEOUT} s", None))
    if run.returncode != 0:
        pytest.fail(failure(block, f"failed (exit {run.returncode})", run))
    if block.lang == "sh" and ERROR_ENVELOPE.search(run.stdout):
        pytest.fail(failure(block, "answered an error envelope", run))
