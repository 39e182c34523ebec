"""Robustness: how far hashes move under everyday edits, and the likely-same rule's record.

For every corpus photo (turned upright) and each edit below, the edited copy is
encoded, hashed from its bytes, and compared with the original through the
library's own rule. False positives: every pair of different photos.
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


def measure(
    corpus: Path, profile: str = "jimp"
) -> tuple[dict[str, list[dict[str, int]]], list[dict[str, int]], int, int, int]:
    """Distances per edit, distances over distinct pairs, and the rule's counts."""
    photos = sorted((corpus / "photos").glob("*.jpg"))
    originals = {}
    per_edit: dict[str, list[dict[str, int]]] = {name: [] for name in EDITS}
    hits = misses = 0
    for path in photos:
        original = imghash.hash_image(path, profile=profile)
        originals[path.name] = original
        with Image.open(path) as opened:
            upright = ImageOps.exif_transpose(opened).convert("RGB")
        for name, edit in EDITS.items():
            copy = imghash.hash_image(edit(upright), profile=profile, settings=ROOMY)
            verdict = imghash.compare(original, copy)
            per_edit[name].append(
                {a: c.distance for a, c in verdict.algorithms.items()}
                | {"same": verdict.likely_same}
            )
            hits += verdict.likely_same
            misses += not verdict.likely_same
    pairs = []
    false_positives = 0
    for a, b in itertools.combinations(originals.values(), 2):
        verdict = imghash.compare(a, b)
        pairs.append({n: c.distance for n, c in verdict.algorithms.items()})
        false_positives += verdict.likely_same
    return per_edit, pairs, hits, misses, false_positives


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
        rows.append([edit, *(_spread([d[n] for d in found]) for n in names), f"{recall:.0%}"])
    recall = hits / (hits + misses)
    fp_rate = false_positives / len(pairs)
    rows.append(
        [
            "**different photos**",
            *(_spread([d[n] for d in pairs]) for n in names),
            f"false positives {false_positives}/{len(pairs)}",
        ]
    )
    rule = ", ".join(f"{n} ≤ {d}" for n, d in imghash.LIKELY_SAME_MAX_DISTANCE.items())
    print(
        f"### Robustness, {len(per_edit['grey'])} corpus photos x {len(EDITS)} edits "
        "(distance mean / p95 / max)\n"
    )
    print(table(["edit", *names, "likely_same"], rows))
    print(
        f"\nRule: likely_same when {rule}. Recall over all edits {recall:.1%} "
        f"({hits}/{hits + misses}); false positives {fp_rate:.2%} of {len(pairs)} pairs."
    )
    closest = sorted(pairs, key=lambda d: sum(d.values()))[:3]
    print(
        "Closest different pairs (a/d/p): "
        + ", ".join("/".join(str(d[n]) for n in names) for d in closest)
    )
    return {"recall": recall, "false_positive_rate": fp_rate}
