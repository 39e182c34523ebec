"""Generated structured pictures whose low DCT frequencies are (nearly) all exactly zero.

Checkerboards, stripes, mirror-symmetric drawings, gradients and line art, at several
sizes and phases: the inputs on which a pHash bit is decided by rounding noise
(issue 9). Deterministic, so that two machines (or two CPUs) make the same pixels.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["KINDS", "checkerboard", "gradient", "lineart", "patterns", "stripes", "symmetric"]

KINDS = ("checkerboard", "stripes", "symmetric", "gradient", "lineart")
SIZES = ((64, 64), (96, 96), (100, 60), (128, 128), (200, 150), (256, 256), (300, 300))


def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:height, 0:width]
    return x, y


def checkerboard(
    width: int, height: int, cell: int, phase: int = 0, levels: tuple[int, int] = (0, 255)
) -> Image.Image:
    """Squares of ``cell`` pixels, shifted by ``phase`` pixels, in two grey levels."""
    x, y = _grid(width, height)
    on = (((x + phase) // cell) + ((y + phase) // cell)) % 2 == 1
    return Image.fromarray(np.where(on, levels[1], levels[0]).astype(np.uint8))


def stripes(width: int, height: int, period: int, phase: int, direction: str) -> Image.Image:
    """Bands ``period`` pixels wide, ``vertical``, ``horizontal`` or ``diagonal``."""
    x, y = _grid(width, height)
    along = {"vertical": x, "horizontal": y, "diagonal": x + y}[direction]
    return Image.fromarray(np.where(((along + phase) // period) % 2 == 0, 230, 20).astype(np.uint8))


def gradient(width: int, height: int, kind: str, phase: int) -> Image.Image:
    """A ramp (``horizontal``, ``vertical``, ``radial``, ``diamond``) starting at grey ``phase``."""
    x, y = _grid(width, height)
    fx, fy = x / max(width - 1, 1), y / max(height - 1, 1)
    value = {
        "horizontal": fx,
        "vertical": fy,
        "radial": np.hypot(fx - 0.5, fy - 0.5) / np.hypot(0.5, 0.5),
        "diamond": (np.abs(fx - 0.5) + np.abs(fy - 0.5)),
    }[kind]
    return Image.fromarray(np.clip(phase + value * 200, 0, 255).astype(np.uint8))


def symmetric(width: int, height: int, variant: int) -> Image.Image:
    """A drawing mirrored left-right (and, for odd variants, top-bottom too)."""
    image = Image.new("L", (width, height), 40 + 10 * variant)
    draw = ImageDraw.Draw(image)
    cx, cy = width / 2, height / 2
    r = min(width, height) * (0.2 + 0.05 * variant)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=210)
    draw.rectangle((cx - r / 2, cy - r * 1.5, cx + r / 2, cy - r * 0.5), fill=120)
    pixels = np.asarray(image).copy()
    half = width // 2
    pixels[:, width - half :] = pixels[:, :half][:, ::-1]  # exact mirror
    if variant % 2:
        rows = height // 2
        pixels[height - rows :] = pixels[:rows][::-1]
    return Image.fromarray(pixels)


def lineart(width: int, height: int, variant: int) -> Image.Image:
    """A grid of thin black lines in a frame, on white."""
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    step = max(4, min(width, height) // (3 + variant))
    for i in range(0, max(width, height), step):
        draw.line((i, 0, i, height), fill=0, width=1 + variant % 2)
        draw.line((0, i, width, i), fill=0, width=1 + variant % 2)
    draw.rectangle((2, 2, width - 3, height - 3), outline=0, width=2)
    return image


def patterns(every: int = 1) -> Iterator[tuple[str, Image.Image]]:
    """``(name, image)`` for every generated picture (every ``every``-th one for a subset)."""
    for n, item in enumerate(_all()):
        if n % every == 0:
            yield item


def _all() -> Iterator[tuple[str, Image.Image]]:
    for (w, h), cell, phase in itertools.product(SIZES, (1, 2, 4, 8, 16, 32), (0, 1, 3)):
        if cell * 2 <= min(w, h):
            for levels in ((0, 255), (60, 190)):
                name = f"checkerboard-{w}x{h}-c{cell}-p{phase}-{levels[0]}"
                yield name, checkerboard(w, h, cell, phase, levels)
    for (w, h), period, phase, direction in itertools.product(
        SIZES, (1, 2, 3, 5, 8, 16), (0, 1, 2), ("vertical", "horizontal", "diagonal")
    ):
        yield (
            f"stripes-{w}x{h}-{direction}-t{period}-p{phase}",
            stripes(w, h, period, phase, direction),
        )
    for (w, h), variant in itertools.product(SIZES, range(6)):
        yield f"symmetric-{w}x{h}-v{variant}", symmetric(w, h, variant)
    for (w, h), kind, phase in itertools.product(
        SIZES, ("horizontal", "vertical", "radial", "diamond"), (0, 20, 55)
    ):
        yield f"gradient-{w}x{h}-{kind}-p{phase}", gradient(w, h, kind, phase)
    for (w, h), variant in itertools.product(SIZES, range(4)):
        yield f"lineart-{w}x{h}-v{variant}", lineart(w, h, variant)
    for (w, h), cell in itertools.product(SIZES[:4], (4, 8)):  # colour, as photos are
        grey = np.asarray(checkerboard(w, h, cell))
        rgb = np.stack([grey, 255 - grey, grey // 2], axis=-1)
        yield f"checkerboard-rgb-{w}x{h}-c{cell}", Image.fromarray(rgb)
