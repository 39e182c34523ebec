"""The progress bar in a real pseudo-terminal, and a closed pipe (issue 7).

The command runs as a real subprocess with its standard error (and, in the first test,
its standard output too) on a pseudo-terminal, as in a user's shell. What a terminal
would show is rebuilt from the bytes it received, carriage returns included, and every
line on it must be exactly a line of output or a message: never a bar and a result
sharing a line, as in ``[######........] 1/5phash=…``.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

import imghash
from tests.helpers import encode, photo_like

IMGHASH = Path(sys.executable).with_name("imghash")
_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for seed in range(6):
        (pictures / f"p{seed}.png").write_bytes(encode(photo_like(320, 240, seed=seed), "PNG"))
    (pictures / "p3x.jpg").write_bytes(b"not an image at all")
    return pictures


def terminal() -> tuple[int, int]:
    """A pseudo-terminal 100 columns wide (a size, as a real terminal has)."""
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    return main_fd, child_fd


def read_all(fd: int, process: subprocess.Popen[bytes]) -> bytes:
    """Everything written to the terminal until the process is done."""
    received = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the last writer closed: Linux answers EIO
                break
            if not chunk:
                break
            received += chunk
        elif process.poll() is not None:
            break
    return received


def screen(raw: bytes) -> list[str]:
    """The lines a terminal shows for ``raw``: each ``\\r`` returns to column 0 and later
    characters overwrite earlier ones; escape sequences take no room."""
    lines = []
    for physical in _CSI.sub("", raw.decode()).replace("\r\n", "\n").split("\n"):
        cells: list[str] = []
        column = 0
        for char in physical:
            if char == "\r":
                column = 0
                continue
            if column < len(cells):
                cells[column] = char
            else:
                cells.append(char)
            column += 1
        lines.append("".join(cells).rstrip())
    return [line for line in lines if line]


def expected_lines(folder: Path, suffix: str = ".png") -> list[str]:
    lines = []
    for path in sorted(folder.iterdir()):
        if path.suffix == suffix:
            phash = imghash.hash_image(path, algorithms="phash").hashes["phash"].hex()
            lines.append(f"phash={phash}  {path}")
    return lines


def test_bar_and_output_on_one_terminal_never_share_a_line(folder: Path) -> None:
    main_fd, child_fd = terminal()
    try:
        process = subprocess.Popen(
            [str(IMGHASH), "hash", "-a", "phash", "--jobs", "2", str(folder)],
            stdout=child_fd,
            stderr=child_fd,
        )
        os.close(child_fd)
        raw = read_all(main_fd, process)
        assert process.wait(timeout=60) == 1  # the non-image is a failure of `hash`
    finally:
        os.close(main_fd)
    assert "/7 [" in raw.decode(), "no progress bar was drawn"
    hashes = expected_lines(folder)
    bad = folder / "p3x.jpg"
    message = (
        f"imghash: {bad}: the input is not a recognised image format; send PNG, JPEG, GIF, "
        "BMP, TIFF, WebP or HEIC/HEIF (unsupported_image)"
    )
    # The sorted order: p0 p1 p2 p3 p3x p4 p5, and the bar cleared at the end.
    assert screen(raw) == [*hashes[:4], message, *hashes[4:]]


def test_piped_output_is_clean_while_the_bar_is_on_the_terminal(folder: Path) -> None:
    main_fd, child_fd = terminal()
    try:
        process = subprocess.Popen(
            [str(IMGHASH), "hash", "--json", "-a", "phash", str(folder)],
            stdout=subprocess.PIPE,
            stderr=child_fd,
        )
        os.close(child_fd)
        out, _ = process.communicate(timeout=120)
        shown = read_all(main_fd, process).decode()
    finally:
        os.close(main_fd)
    assert process.returncode == 1
    assert "/7 [" in shown, "no progress bar was drawn"
    sources = [line.split('"source": "')[1].split('"')[0] for line in out.decode().splitlines()]
    assert sources == [str(p) for p in sorted(folder.iterdir())]
    assert "\r" not in out.decode()
    assert "\x1b" not in out.decode()


def test_a_closed_pipe_ends_quietly_with_status_141(folder: Path) -> None:
    main_fd, child_fd = terminal()
    try:
        process = subprocess.Popen(
            [str(IMGHASH), "hash", "-a", "phash", "--jobs", "1", str(folder)],
            stdout=subprocess.PIPE,
            stderr=child_fd,
        )
        os.close(child_fd)
        assert process.stdout is not None
        first = process.stdout.readline()  # as `| head -1` does, then goes away
        process.stdout.close()
        shown = read_all(main_fd, process).decode()
        status = process.wait(timeout=60)
    finally:
        os.close(main_fd)
    assert first.decode().startswith("phash=")
    assert status == 141
    assert "Traceback" not in shown
    assert "Exception ignored" not in shown
    assert "BrokenPipeError" not in shown


def test_through_head_in_a_shell(tmp_path: Path) -> None:
    # Images large enough (tens of ms each, one process) that `head` is long gone
    # before the third line is written.
    for seed in range(6):
        picture = photo_like(1600, 1200, seed=seed)
        (tmp_path / f"p{seed}.jpg").write_bytes(encode(picture, "JPEG", quality=90))
    command = f'set -o pipefail; "{IMGHASH}" hash --jobs 1 -a phash "{tmp_path}" | head -2'
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.splitlines() == expected_lines(tmp_path, ".jpg")[:2]
    assert done.stderr == ""
    assert done.returncode == 141
