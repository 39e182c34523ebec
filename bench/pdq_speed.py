"""PDQ against Meta's C++ reference (the pdqhash binding), from the same decoded pixels (DESIGN §9).

Both are handed the same 8-bit RGB array, so the figures compare the hashing alone
(luma, filters, DCT, bits) and not the decoders. Also the agreement figures of the
README: the hashes are equal bit for bit, checked here on every image timed.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pdqhash
from common import interleaved_medians, table
from PIL import Image
from speed import _interleaved, _peak_mb

import imghash
from imghash._pdq import pdq_dihedral, pdq_hash

ROUNDS = 5


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def _bits(vector: np.ndarray) -> int:
    return int.from_bytes(np.packbits(vector.astype(np.uint8)).tobytes(), "big")


def _agrees(rgb: np.ndarray) -> bool:
    bits, quality = pdqhash.compute(rgb)
    hashes, dquality = pdqhash.compute_dihedral(rgb)
    theirs = [(_bits(h), int(dquality)) for h in hashes]
    return (
        tuple(pdq_hash(rgb)) == (_bits(bits), int(quality))
        and [tuple(h) for h in pdq_dihedral(rgb)] == theirs
    )


def _time(images: list[np.ndarray]) -> dict[str, float]:
    """Median seconds to hash all of ``images``, each contender in turn."""
    return interleaved_medians(
        {
            "imghash PDQ": lambda: [pdq_hash(rgb) for rgb in images],
            "pdqhash (C++)": lambda: [pdqhash.compute(rgb) for rgb in images],
            "imghash dihedral": lambda: [pdq_dihedral(rgb) for rgb in images],
            "pdqhash dihedral": lambda: [pdqhash.compute_dihedral(rgb) for rgb in images],
        },
        ROUNDS,
    )


def run(corpus: Path) -> dict[str, object]:
    groups: dict[str, list[Path]] = {
        path.name: [path] for path in sorted((corpus / "photos").glob("large_*.jpg"))
    }
    by_size: dict[tuple[int, int], list[Path]] = {}
    for path in sorted(p for p in (corpus / "pdq").rglob("*.*") if p.suffix != ".md"):
        with Image.open(path) as image:
            by_size.setdefault(image.size, []).append(path)
    for (width, height), paths in sorted(by_size.items(), key=lambda kv: -kv[0][0] * kv[0][1]):
        groups[f"pdq/ {width}x{height}"] = paths

    rows, agree, count = [], 0, 0
    totals = {"large photos": [0.0, 0.0, 0.0, 0.0], "pdq/ images": [0.0, 0.0, 0.0, 0.0]}
    for label, paths in groups.items():
        images = [_rgb(p) for p in paths]
        agree += sum(_agrees(rgb) for rgb in images)
        count += len(images)
        seconds = _time(images)
        ours, theirs = seconds["imghash PDQ"], seconds["pdqhash (C++)"]
        d_ours, d_theirs = seconds["imghash dihedral"], seconds["pdqhash dihedral"]
        total = totals["large photos" if label.startswith("large_") else "pdq/ images"]
        for i, value in enumerate((ours, theirs, d_ours, d_theirs)):
            total[i] += value
        rows.append(_row(f"{label} ({len(paths)} images)", ours, theirs, d_ours, d_theirs))
    for label, seconds in totals.items():
        rows.append(_row(f"**all {label}**", *seconds))
    print(
        f"### PDQ: imghash (numpy) against Meta's C++ reference (pdqhash), same pixels, median of "
        f"{ROUNDS} interleaved runs\n"
    )
    print(table(["image", "imghash", "pdqhash", "time ratio", "dihedral time ratio"], rows))
    print(f"\nBit-identical hash, quality and eight dihedral hashes: {agree} of {count} images.")

    twelve = corpus / "photos" / "large_4032x3024.jpg"
    load = (
        "import numpy as np, pdqhash\nfrom PIL import Image\nfrom imghash._pdq import pdq_hash\n"
        "rgb = np.asarray(Image.open(sys.argv[1]).convert('RGB'))"
    )
    peaks = {
        "imghash PDQ": _peak_mb(twelve, load, "pdq_hash(rgb)"),
        "pdqhash (C++)": _peak_mb(twelve, load, "pdqhash.compute(rgb)"),
    }
    print(f"\n### PDQ peak memory added by hashing the decoded 12 MP photo ({twelve.name})\n")
    print(table(["contender", "peak MB added"], [[n, f"{mb:.0f}"] for n, mb in peaks.items()]))
    ratios = {label: t[0] / t[1] for label, t in totals.items()}
    inside = run_pipeline(corpus)
    return {
        "time_ratio": ratios,
        "identical": f"{agree}/{count}",
        "peak_mb": peaks,
        "pipeline": inside,
    }


#: What a caller asks of hash_image, from the bytes; and the reference with Pillow's decode.
PIPELINE = {
    "aHash, dHash, pHash": {"algorithms": "all"},
    "the three + PDQ": {"algorithms": "all,pdq"},
    "PDQ alone": {"algorithms": "pdq"},
    "the three, fast": {"algorithms": "all", "fast": True},
    "the three + PDQ, fast": {"algorithms": "all,pdq", "fast": True},
    "PDQ alone, fast": {"algorithms": "pdq", "fast": True},
}


def _decode_and_pdqhash(data: bytes) -> object:
    with Image.open(io.BytesIO(data)) as image:
        return pdqhash.compute(np.asarray(image.convert("RGB")))


def run_pipeline(corpus: Path) -> dict[str, float]:
    """PDQ inside hash_image, from the bytes of the six large photos: what it adds to the
    seed's three when asked with them (the decode and the EXIF turn are shared)."""
    photos = [p.read_bytes() for p in sorted((corpus / "photos").glob("large_*.jpg"))]
    contenders = {
        label: lambda options=options: [imghash.hash_image(d, **options) for d in photos]
        for label, options in PIPELINE.items()
    }
    contenders["Pillow decode + pdqhash (C++)"] = lambda: [_decode_and_pdqhash(d) for d in photos]
    wall, cpu = _interleaved(contenders, ROUNDS)
    three = cpu["aHash, dHash, pHash"]
    rows = [
        [
            label,
            f"{wall[label] * 1000:.0f} ms",
            f"{cpu[label] * 1000:.0f} ms",
            f"{cpu[label] / three:.2f}",
        ]
        for label in contenders
    ]
    print(
        f"\n### PDQ inside hash_image: the six large photos from their bytes, median of {ROUNDS} "
        "interleaved runs\n"
    )
    print(table(["asked for", "wall", "CPU", "CPU time / the three's"], rows))
    twelve = corpus / "photos" / "large_4032x3024.jpg"
    load = "import imghash\ndata = open(sys.argv[1], 'rb').read()"
    peaks = {
        label: _peak_mb(
            twelve, load, f"imghash.hash_image(data, algorithms={options['algorithms']!r})"
        )
        for label, options in PIPELINE.items()
        if "fast" not in options
    }
    print(
        f"\nPeak memory added, from the bytes of {twelve.name} (fresh process): "
        + ", ".join(f"{label} {mb:.0f} MB" for label, mb in peaks.items())
    )
    return {label: cpu[label] / three for label in contenders}


def _row(label: str, ours: float, theirs: float, d_ours: float, d_theirs: float) -> list[str]:
    return [
        label,
        f"{ours * 1000:.1f} ms",
        f"{theirs * 1000:.1f} ms",
        f"{ours / theirs:.2f}",
        f"{d_ours / d_theirs:.2f}",
    ]


if __name__ == "__main__":
    from common import corpus

    print(json.dumps(run(corpus()), indent=1))
