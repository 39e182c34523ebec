"""Robustness: how far hashes move under everyday edits, and the likely-same rule's record.

For every corpus photo (turned upright) and each edit below, the edited copy is
encoded, hashed from its bytes, and compared with the original through the
library's own rule. False positives: every pair of different photos. PDQ is measured
beside the seed's three (its own rule: Meta's 31 bits), and dihedral matching on
turned and mirrored copies (pHash and PDQ deciding), with its false positives over
every ordered pair of different photos.
"""

from __future__ import annotations

import io
import itertools
import statistics
from collections.abc import Callable
from pathlib import Path

from common import table
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

import imghash

Edit = Callable[[Image.Image], bytes]
SEED = ("ahash", "dhash", "phash")
TURNING = ("phash", "pdq")


# The 200 % copies of the 12 MP photos are far over the service's default limits.
ROOMY = imghash.Settings(max_bytes=1 << 30, max_pixels=80_000_000)


def _encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    if fmt == "PNG":
        options.setdefault("compress_level", 1)  # lossless either way; level 1 is fast
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _scale(factor: float, method: Image.Resampling) -> Edit:
    def edit(im: Image.Image) -> bytes:
        size = (max(1, round(im.width * factor)), max(1, round(im.height * factor)))
        return _encode(im.resize(size, method))

    return edit


def _crop(im: Image.Image) -> bytes:
    dx, dy = round(im.width * 0.01), round(im.height * 0.01)
    return _encode(im.crop((dx, dy, im.width, im.height)))  # 1 % off the left and top


EDITS: dict[str, Edit] = {
    "resize 50 % (bicubic)": _scale(0.5, Image.Resampling.BICUBIC),
    "resize 33 % (bilinear)": _scale(1 / 3, Image.Resampling.BILINEAR),
    "resize 200 % (bicubic)": _scale(2, Image.Resampling.BICUBIC),
    "JPEG quality 40": lambda im: _encode(im, "JPEG", quality=40),
    "JPEG quality 75": lambda im: _encode(im, "JPEG", quality=75),
    "brightness +8 %": lambda im: _encode(ImageEnhance.Brightness(im).enhance(1.08)),
    "contrast +8 %": lambda im: _encode(ImageEnhance.Contrast(im).enhance(1.08)),
    "Gaussian blur 0.8": lambda im: _encode(im.filter(ImageFilter.GaussianBlur(0.8))),
    "grey": lambda im: _encode(im.convert("L")),
    "crop 1 %": _crop,
}


#: Turned and mirrored copies, each named by the orientation dihedral matching should find.
TURNED: dict[str, Image.Transpose] = {
    "rotate90": Image.Transpose.ROTATE_90,
    "rotate180": Image.Transpose.ROTATE_180,
    "flipy": Image.Transpose.FLIP_LEFT_RIGHT,
    "flipplus1": Image.Transpose.TRANSPOSE,
}


def measure(
    corpus: Path, profile: str = "jimp"
) -> tuple[dict[str, list[dict[str, int]]], list[dict[str, int]], int, int, int]:
    """Distances per edit, distances over distinct pairs, and the rule's counts (the seed's
    three; PDQ's distances and its own verdict, ``pdq same``, beside them)."""
    photos = sorted((corpus / "photos").glob("*.jpg"))
    originals = {}
    per_edit: dict[str, list[dict[str, int]]] = {name: [] for name in EDITS}
    hits = misses = 0
    for path in photos:
        original = imghash.hash_image(path, algorithms="all,pdq", profile=profile)
        originals[path.name] = original
        with Image.open(path) as opened:
            upright = ImageOps.exif_transpose(opened).convert("RGB")
        for name, edit in EDITS.items():
            copy = imghash.hash_image(
                edit(upright), algorithms="all,pdq", profile=profile, settings=ROOMY
            )
            verdict = imghash.compare(original.only(*SEED), copy.only(*SEED))
            pdq = imghash.compare(original.only("pdq"), copy.only("pdq"))
            per_edit[name].append(
                {a: c.distance for a, c in verdict.algorithms.items()}
                | {"pdq": pdq.algorithms["pdq"].distance}
                | {"same": verdict.likely_same, "pdq same": pdq.likely_same}
            )
            hits += verdict.likely_same
            misses += not verdict.likely_same
    pairs = []
    false_positives = 0
    for a, b in itertools.combinations(originals.values(), 2):
        verdict = imghash.compare(a.only(*SEED), b.only(*SEED))
        pdq = imghash.compare(a.only("pdq"), b.only("pdq"))
        pairs.append(
            {n: c.distance for n, c in verdict.algorithms.items()}
            | {"pdq": pdq.algorithms["pdq"].distance, "pdq same": pdq.likely_same}
        )
        false_positives += verdict.likely_same
    return per_edit, pairs, hits, misses, false_positives


def measure_dihedral(corpus: Path, profile: str = "jimp") -> dict[str, object]:
    """Dihedral matching (pHash and PDQ deciding): turned copies found, and the orientation
    named; false positives over every ordered pair of different photos."""
    photos = sorted((corpus / "photos").glob("*.jpg"))
    originals = []
    found: dict[str, list[tuple[bool, bool, int, int]]] = {name: [] for name in TURNED}
    for path in photos:
        original = imghash.hash_image(path, algorithms="phash,pdq", profile=profile, dihedral=True)
        originals.append(original)
        with Image.open(path) as opened:
            upright = ImageOps.exif_transpose(opened).convert("RGB")
        for name, method in TURNED.items():
            copy = imghash.hash_image(
                _encode(upright.transpose(method), "JPEG", quality=75),
                algorithms="phash,pdq",
                profile=profile,
            )
            verdict = imghash.compare(original, copy, dihedral=True)
            plain = imghash.compare(original.only(*TURNING), copy)
            found[name].append(
                (
                    verdict.likely_same,
                    verdict.orientation == name,
                    verdict.algorithms["pdq"].distance,
                    plain.likely_same,
                )
            )
    false_positives = pairs = 0
    for a, b in itertools.permutations(originals, 2):
        pairs += 1
        false_positives += imghash.compare(a, b, dihedral=True).likely_same
    return {"found": found, "false_positives": false_positives, "pairs": pairs}


def _spread(values: list[int]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.mean(values):.1f} / {p95} / {ordered[-1]}"


def run(corpus: Path) -> dict[str, float]:
    per_edit, pairs, hits, misses, false_positives = measure(corpus)
    names = list(imghash.ALGORITHMS)
    rows = []
    for edit, found in per_edit.items():
        recall = sum(d["same"] for d in found) / len(found)
        pdq_recall = sum(d["pdq same"] for d in found) / len(found)
        rows.append(
            [
                edit,
                *(_spread([d[n] for d in found]) for n in names),
                f"{recall:.0%}",
                f"{pdq_recall:.0%}",
            ]
        )
    recall = hits / (hits + misses)
    fp_rate = false_positives / len(pairs)
    pdq_fp = sum(d["pdq same"] for d in pairs)
    rows.append(
        [
            "**different photos**",
            *(_spread([d[n] for d in pairs]) for n in names),
            f"false positives {false_positives}/{len(pairs)}",
            f"{pdq_fp}/{len(pairs)}",
        ]
    )
    rule = ", ".join(f"{n} ≤ {d}" for n, d in imghash.LIKELY_SAME_MAX_DISTANCE.items())
    print(
        f"### Robustness, {len(per_edit['grey'])} corpus photos x {len(EDITS)} edits "
        "(distance mean / p95 / max)\n"
    )
    print(table(["edit", *names, "likely_same (the three)", "PDQ ≤ 31"], rows))
    print(
        f"\nRule: likely_same when {rule}. Recall over all edits {recall:.1%} "
        f"({hits}/{hits + misses}); false positives {fp_rate:.2%} of {len(pairs)} pairs."
    )
    closest = sorted(pairs, key=lambda d: sum(d[n] for n in SEED))[:3]
    print(
        "Closest different pairs (a/d/p): "
        + ", ".join("/".join(str(d[n]) for n in SEED) for d in closest)
        + f"; closest PDQ: {min(d['pdq'] for d in pairs)} bits"
    )
    dihedral = measure_dihedral(corpus)
    found: dict[str, list[tuple[bool, bool, int, int]]] = dihedral["found"]  # type: ignore[assignment]
    rows = [
        [
            f"{name} (JPEG q75)",
            f"{sum(f[0] for f in hits_) / len(hits_):.0%}",
            f"{sum(f[1] for f in hits_) / len(hits_):.0%}",
            _spread([f[2] for f in hits_]),
            f"{sum(f[3] for f in hits_) / len(hits_):.0%}",
        ]
        for name, hits_ in found.items()
    ]
    print(
        f"\n### Dihedral matching (pHash and PDQ deciding), {len(found['flipy'])} corpus photos\n"
    )
    print(
        table(
            [
                "copy",
                "likely_same, dihedral=true",
                "orientation named",
                "PDQ distance",
                "likely_same without",
            ],
            rows,
        )
    )
    print(
        f"\nFalse positives with dihedral=true: {dihedral['false_positives']} of "
        f"{dihedral['pairs']} ordered pairs of different photos."
    )
    return {"recall": recall, "false_positive_rate": fp_rate}
