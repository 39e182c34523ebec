"""Fast mode against exact mode on every corpus JPEG: agreement and speed (DESIGN §3)."""

from __future__ import annotations

from pathlib import Path

from common import interleaved_medians, table

import imghash

#: Every algorithm: the seed's three and PDQ, which reads the same reduced decode.
EVERY = "all,pdq"


def run(corpus: Path) -> dict[str, object]:
    jpegs = sorted(p for p in corpus.rglob("*.jp*g") if p.parent.name != "bad")
    identical = {name: 0 for name in imghash.ALGORITHMS}
    worst = {name: 0 for name in imghash.ALGORITHMS}
    total = {name: 0 for name in imghash.ALGORITHMS}
    within = 0  # PDQ hashes within Meta's threshold of the exact mode's
    counted = 0
    for path in jpegs:
        data = path.read_bytes()
        try:
            exact = imghash.hash_image(data, algorithms=EVERY)
        except imghash.ImghashError:
            continue
        fast = imghash.hash_image(data, algorithms=EVERY, fast=True)
        counted += 1
        within += (
            exact.hashes["pdq"] - fast.hashes["pdq"] <= imghash.LIKELY_SAME_MAX_DISTANCE["pdq"]
        )
        for name in imghash.ALGORITHMS:
            d = exact.hashes[name] - fast.hashes[name]
            identical[name] += d == 0
            worst[name] = max(worst[name], d)
            total[name] += d
    rows = [
        [name, f"{identical[name] / counted:.0%}", f"{total[name] / counted:.2f}", worst[name]]
        for name in imghash.ALGORITHMS
    ]
    large = sorted((corpus / "photos").glob("large_*.jpg"))
    seconds = {"exact": 0.0, "fast": 0.0}
    for path in large:
        data = path.read_bytes()
        medians = interleaved_medians(
            {
                "exact": lambda data=data: imghash.hash_image(data),
                "fast": lambda data=data: imghash.hash_image(data, fast=True),
            },
            5,
        )
        for key, value in medians.items():
            seconds[key] += value
    print(f"### Fast mode against exact mode, {counted} corpus JPEGs\n")
    print(table(["algorithm", "identical hashes", "mean bits apart", "most bits apart"], rows))
    print(
        f"\nPDQ within {imghash.LIKELY_SAME_MAX_DISTANCE['pdq']} bits of exact: {within}/{counted}"
    )
    print(
        f"\nSpeed on the six large photos: exact {seconds['exact'] * 1000:.0f} ms, "
        f"fast {seconds['fast'] * 1000:.0f} ms ({seconds['exact'] / seconds['fast']:.1f}x)"
    )
    return {"identical": {n: identical[n] / counted for n in identical}, "worst": worst}
