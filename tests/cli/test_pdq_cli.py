"""PDQ and dihedral matching from the command line: hash, compare --dihedral, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import imghash
from imghash.cli import main


@pytest.fixture
def bridge(corpus: Path) -> tuple[str, str]:
    folder = corpus / "pdq/reg-test-input/dih"
    return str(folder / "bridge-1-original.jpg"), str(folder / "bridge-6-flipy.jpg")


def test_hash_pdq(bridge: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    original = bridge[0]
    expected = imghash.hash_image(original, algorithms="all,pdq").hex()
    assert main(["hash", "--json", "-a", "all,pdq", original]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line == {"source": original, **expected, "quality": {"pdq": 100}}
    assert main(["hash", "-a", "pdq", original]) == 0
    assert capsys.readouterr().out == f"pdq={expected['pdq']}  {original}  (pdq quality 100)\n"
    assert main(["hash", "--json", original]) == 0  # all: the seed's three
    assert set(json.loads(capsys.readouterr().out)) == {"source", "ahash", "dhash", "phash"}


def test_compare_dihedral(bridge: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    original, mirrored = bridge
    assert main(["compare", "-a", "phash,pdq", original, mirrored]) == 1  # not the same
    capsys.readouterr()
    assert main(["compare", "-a", "phash,pdq", "--dihedral", original, mirrored]) == 0
    out = capsys.readouterr().out
    assert "orientation: flipy" in out
    assert "likely same: yes (decided by phash, pdq)" in out
    assert f"pdq        {imghash.hash_image(original, algorithms='pdq').hex()['pdq']} " in out
    assert main(["compare", "--json", "--dihedral", original, mirrored]) == 0
    verdict = json.loads(capsys.readouterr().out)
    expected = imghash.compare_images(original, mirrored, dihedral=True).to_dict()
    assert verdict == expected
    assert (verdict["orientation"], verdict["decided_by"]) == ("flipy", ["phash"])


def test_dihedral_without_an_algorithm_that_turns_is_an_error(
    bridge: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "-a", "ahash", "--dihedral", *bridge]) == 2
    assert "needs phash or pdq" in capsys.readouterr().err
