"""``imghash hash`` and ``imghash compare``: output, JSON lines and exit codes (DESIGN §7)."""

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
from tests.servers import send_bytes, upstream

IMGHASH = Path(sys.executable).with_name("imghash")


@pytest.fixture
def images(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.png").write_bytes(encode(photo_like(seed=1), "PNG"))
    (tmp_path / "sub" / "b.jpg").write_bytes(encode(photo_like(seed=2), "JPEG"))
    (tmp_path / "sub" / "notes.txt").write_text("not an image, and not picked up from a folder")
    return tmp_path


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(IMGHASH), *args], input=stdin, capture_output=True, timeout=60, check=False
    )


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_hash_json_lines_for_files_and_folders(
    images: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hash", "--json", str(images)]) == 0
    lines = json_lines(capsys.readouterr().out)
    assert [line["source"] for line in lines] == [str(images / "a.png"), str(images / "sub/b.jpg")]
    expected = imghash.hash_image(images / "a.png").hex()
    assert lines[0] == {"source": str(images / "a.png"), **expected}


def test_hash_one_algorithm_and_profile(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(images / "a.png")
    assert main(["hash", "--json", "-a", "phash", "-p", "imagehash", path]) == 0
    [line] = json_lines(capsys.readouterr().out)
    assert line == {
        "source": path,
        "phash": imghash.hash_image(path, profile="imagehash").hex()["phash"],
    }


def test_failures_are_reported_and_the_rest_still_hashed(
    images: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = images / "sub" / "notes.txt"
    assert (
        main(["hash", "--json", str(bad), str(images / "a.png"), str(images / "missing.png")]) == 1
    )
    lines = json_lines(capsys.readouterr().out)
    assert lines[0] == {
        "source": str(bad),
        "error": {
            "code": "unsupported_image",
            "message": "the input is not a recognised image format; "
            "send PNG, JPEG, GIF, BMP, TIFF, WebP or HEIC/HEIF",
        },
    }
    assert "ahash" in lines[1]
    assert lines[2]["error"]["code"] == "invalid_request"  # type: ignore[index]


def test_plain_output(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(images / "a.png")
    assert main(["hash", path]) == 0
    h = imghash.hash_image(path).hex()
    assert (
        capsys.readouterr().out
        == f"ahash={h['ahash']}  dhash={h['dhash']}  phash={h['phash']}  {path}\n"
    )


def test_errors_go_to_stderr_without_json(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash", str(images / "sub" / "notes.txt")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "(unsupported_image)" in captured.err


def test_stdin_through_the_real_command(images: Path) -> None:
    data = (images / "a.png").read_bytes()
    done = run("hash", "--json", "-", stdin=data)
    assert done.returncode == 0, done.stderr
    assert json_lines(done.stdout.decode()) == [{"source": "-", **imghash.hash_image(data).hex()}]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["hash"],
        ["hash", "--algorithm", "md5", "x.png"],
        ["hash", "--profile", "opencv", "x"],
        ["compare", "only-one"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert b"usage:" in done.stderr
    assert b"Traceback" not in done.stderr


def test_compare_json(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = str(images / "a.png"), str(images / "sub" / "b.jpg")
    assert main(["compare", "--json", a, b]) == 1  # different pictures: 1, as cmp and diff
    [payload] = json_lines(capsys.readouterr().out)
    assert payload["likely_same"] is False
    ha, hb = imghash.hash_image(a), imghash.hash_image(b)
    assert payload["hashes"] == {"image1": ha.hex(), "image2": hb.hex()}
    distances = {name: ha.hashes[name] - hb.hashes[name] for name in ha.hashes}
    assert {k: v["distance"] for k, v in payload["comparison"].items()} == distances  # type: ignore[union-attr]
    assert set(payload) == {
        "hashes",
        "comparison",
        "likely_same",
        "decided_by",
        "average_similarity",
        "low_information",
        "unstable_bits",
    }
    assert payload["decided_by"] == ["ahash", "dhash", "phash"]
    assert payload["unstable_bits"] == {"image1": {"phash": 0}, "image2": {"phash": 0}}


def test_compare_same_picture_resized(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = photo_like(400, 300, seed=5)
    (tmp_path / "big.png").write_bytes(encode(big, "PNG"))
    (tmp_path / "small.jpg").write_bytes(
        encode(big.resize((200, 150), Image.Resampling.BILINEAR), "JPEG", quality=80)
    )
    assert main(["compare", str(tmp_path / "big.png"), str(tmp_path / "small.jpg")]) == 0
    out = capsys.readouterr().out
    assert "likely same: yes" in out
    assert out.splitlines()[0].split() == [
        "algorithm",
        "image1",
        "image2",
        "distance",
        "similarity",
    ]


def test_compare_failure_exits_2(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(images / "a.png"), str(images / "nope.png")]) == 2
    assert "(invalid_request)" in capsys.readouterr().err


def test_url_sources_use_the_safe_fetcher(images: Path) -> None:
    data = (images / "a.png").read_bytes()
    with upstream({"/a.png": send_bytes(data, "image/png")}) as base:
        refused = run("hash", "--json", base + "/a.png")  # loopback: refused by default
        assert refused.returncode == 1
        [line] = json_lines(refused.stdout.decode())
        assert line["error"]["code"] == "url_not_allowed"  # type: ignore[index]
        allowed = subprocess.run(
            [str(IMGHASH), "hash", "--json", base + "/a.png"],
            capture_output=True,
            timeout=60,
            check=False,
            env={**os.environ, "IMGHASH_ALLOW_PRIVATE_URLS": "1"},
        )
        assert allowed.returncode == 0, allowed.stderr
        assert json_lines(allowed.stdout.decode()) == [
            {"source": base + "/a.png", **imghash.hash_image(data).hex()}
        ]


def test_no_progress_bar_when_not_a_terminal(images: Path) -> None:
    done = run("hash", "--json", str(images))
    assert done.stderr == b""
