"""``imghash.find_duplicates``: the groups of ``imghash dupes``, checked against brute force."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

import imghash
from tests.helpers import encode, photo_like


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten pictures, some with edited copies (a chain of three, pairs), and a bad file."""
    pictures = tmp_path_factory.mktemp("dupes")
    for seed in range(10):
        (pictures / f"p{seed}.png").write_bytes(encode(photo_like(192, 128, seed=seed), "PNG"))
    base = photo_like(192, 128, seed=3)
    (pictures / "p3-small.jpg").write_bytes(
        encode(base.resize((96, 64), Image.Resampling.BILINEAR), "JPEG", quality=70)
    )
    (pictures / "p3-bright.png").write_bytes(
        encode(ImageEnhance.Brightness(base).enhance(1.08), "PNG")
    )
    (pictures / "p7-grey.jpg").write_bytes(
        encode(photo_like(192, 128, seed=7).convert("L"), "JPEG", quality=85)
    )
    (pictures / "zz-broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return pictures


def oracle(paths: list[str], max_distance: int | None) -> list[tuple[list[str], set[tuple]]]:
    """Every pair compared (no index), then connected sets by repeated merging."""
    hashed = {p: imghash.hash_image(p) for p in paths}
    pairs = set()
    for a, b in itertools.combinations(sorted(hashed), 2):
        ra, rb = hashed[a], hashed[b]
        distances = {n: ra.hashes[n] - rb.hashes[n] for n in ra.hashes}
        verdict = imghash.compare(ra, rb)
        if max_distance is None:
            match = verdict.likely_same
        else:
            match = distances["phash"] <= max_distance and "phash" in verdict.decided_by
        if match:
            pairs.add((a, b, tuple(sorted(distances.items()))))
    sets = [{p} for p in sorted(hashed)]
    for a, b, _ in pairs:
        first = next(s for s in sets if a in s)
        second = next(s for s in sets if b in s)
        if first is not second:
            first |= second
            sets.remove(second)
    groups = [sorted(s) for s in sets if len(s) > 1]
    return [(g, {p for p in pairs if p[0] in g}) for g in sorted(groups)]


def as_found(groups: list[imghash.DuplicateGroup]) -> list[tuple[list[str], set[tuple]]]:
    return [
        (
            list(g.paths),
            {(p.first, p.second, tuple(sorted(p.distances.items()))) for p in g.pairs},
        )
        for g in groups
    ]


@pytest.mark.parametrize("max_distance", [None, 4, 16])
def test_groups_equal_brute_force(folder: Path, max_distance: int | None) -> None:
    errors: list[tuple[str, str]] = []
    found = imghash.find_duplicates(
        folder, max_distance=max_distance, jobs=1, on_error=lambda p, e: errors.append((p, e.code))
    )
    images = sorted(str(p) for p in folder.iterdir() if "broken" not in p.name)
    assert as_found(found) == oracle(images, max_distance)
    assert errors == [(str(folder / "zz-broken.png"), "unsupported_image")]
    if max_distance is None:  # the edited copies are found, and nothing else
        assert [list(g.paths) for g in found] == [
            [str(folder / n) for n in ("p3-bright.png", "p3-small.jpg", "p3.png")],
            [str(folder / "p7-grey.jpg"), str(folder / "p7.png")],
        ]


def test_paths_folders_and_jobs_agree(folder: Path) -> None:
    by_folder = imghash.find_duplicates(str(folder), jobs=2)
    listed = [folder / p.name for p in sorted(folder.iterdir())]
    assert imghash.find_duplicates(listed, jobs=1) == by_folder
    pair = by_folder[0].pairs[0]
    assert pair.to_dict() == {
        "first": pair.first,
        "second": pair.second,
        "distances": dict(pair.distances),
    }


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"max_distance": 17}, "outside 0..16"),
        ({"algorithm": "md5"}, "unknown algorithm"),
        ({"jobs": 0}, "at least 1"),
        ({"profile": "opencv"}, "profile"),
    ],
)
def test_bad_options_are_invalid_requests(
    folder: Path, options: dict[str, object], fragment: str
) -> None:
    with pytest.raises(imghash.InvalidRequest, match=fragment):
        imghash.find_duplicates(folder, **options)  # type: ignore[arg-type]
