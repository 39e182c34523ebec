"""Test oracle: Jimp 0.22's resizer as the package had it before the fused width pass.

A frozen copy of layers/imghash/imghash/_jimp_resize.py (main, 2026-06), kept only to check
that the faster pipeline changes no bit. Do not import it from the package.

Original docstring: Jimp 0.22's default resizer, reproduced bit for bit on numpy.

Jimp's ``resize`` without a mode runs Grant Galitz's JS-Image-Resizer
(``jimp/src/modules/resize.js``): a width pass, then a height pass over the
width pass's output, each either an area average (downscaling) or a linear
interpolation (upscaling). DESIGN §3 lists the facts this module reproduces:
float32 accumulation, the float64 divisor of covered non-transparent weight,
round-half-up in the height pass, truncation when the height pass is skipped.

The per-output walk over source pixels (which pixel, what weight) is simulated
once per (source, target) size in plain Python with the same IEEE doubles as
the JavaScript, including its floating-point residues; the pixel arithmetic is
then done for all rows at once in numpy, one source step at a time, so the
float32 rounding happens in exactly the JavaScript order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = ["GreyPlanes", "resize_grey"]

F32 = np.float32
F64 = np.float64
_THIRD = 1 / 3

Array = npt.NDArray[np.generic]


@dataclass(frozen=True)
class _AreaPlan:
    """Which source pixels each output pixel covers, and with what weight."""

    index: npt.NDArray[np.intp]  # (steps, dst); padding points at a zero pixel (index == src)
    weight: npt.NDArray[np.float64]  # (steps, dst); 0 for padding
    integral: tuple[bool, ...]  # per step: every weight is 0 or 1
    covered: npt.NDArray[np.float64]  # (dst,) the weights summed in order, as the JS does
    ratio: float


@dataclass(frozen=True)
class _LinearPlan:
    """Where each output pixel of an upscaling pass reads: lo*(1-f) + (lo+1)*f."""

    lo: npt.NDArray[np.intp]
    hi: npt.NDArray[np.intp]
    first: npt.NDArray[np.float64]
    second: npt.NDArray[np.float64]


@lru_cache(maxsize=256)
def _area_plan(src: int, dst: int, stride: int) -> _AreaPlan:
    # Positions are kept in the JS's units (pixel index times `stride`) because
    # `1 + actualPosition - currentPosition` rounds differently at other scales.
    ratio = src / dst
    end = src * stride
    actual = 0
    current = 0.0
    columns: list[list[tuple[int, float]]] = []
    for _ in range(dst):
        steps: list[tuple[int, float]] = []
        weight = ratio
        while True:
            amount = 1 + actual - current
            part = min(weight, amount)
            steps.append((min(actual // stride, src - 1), part))
            if weight >= amount:
                actual += stride
                current = float(actual)
                weight -= amount
            else:
                current += weight
                break
            if not (weight > 0 and actual < end):
                break
        columns.append(steps)
    depth = max(len(c) for c in columns)
    index = np.full((depth, dst), src, dtype=np.intp)
    weights = np.zeros((depth, dst), dtype=F64)
    covered = np.zeros(dst, dtype=F64)
    for j, steps in enumerate(columns):
        total = 0.0
        for k, (i, w) in enumerate(steps):
            index[k, j] = i
            weights[k, j] = w
            total += w
        covered[j] = total
    integral = tuple(bool(np.all((row == 0) | (row == 1))) for row in weights)
    return _AreaPlan(index, weights, integral, covered, ratio)


@lru_cache(maxsize=256)
def _linear_plan(src: int, dst: int) -> _LinearPlan:
    ratio = src / dst
    lo = np.empty(dst, dtype=np.intp)
    first = np.empty(dst, dtype=F64)
    second = np.zeros(dst, dtype=F64)
    out = 0
    weight = 0.0
    while weight < _THIRD and out < dst:  # only the first source pixel is valid yet
        lo[out], first[out] = 0, 1.0
        out += 1
        weight += ratio
    if out == dst:  # the JS keeps adding; the loop above must still have overshot
        while weight < _THIRD:
            weight += ratio
    weight -= _THIRD
    while weight < src - 1 and out < dst:
        frac = weight % 1
        lo[out], first[out], second[out] = int(weight // 1), 1 - frac, frac
        out += 1
        weight += ratio
    lo[out:], first[out:] = src - 1, 1.0  # only the last source pixel is valid any more
    hi = np.minimum(lo + 1, src - 1)
    return _LinearPlan(lo, hi, first, second)


def _padded(data: Array) -> Array:
    """``data`` with one zero row appended: where padding steps of a plan read."""
    out = np.empty((data.shape[0] + 1, *data.shape[1:]), dtype=data.dtype)
    out[:-1] = data
    out[-1] = 0
    return out


def _area_pass(
    padded: Array, alpha: Array | None, dst: int, stride: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32] | None]:
    """Area-average axis 0 of ``padded`` ((n + 1, L), last row zero) down to ``dst``.

    Returns the colour sums divided by their divisor, in float64 (the caller
    stores them as float32 or rounds them), and the averaged alpha as float32
    when there is an alpha channel (same layout as ``padded``).
    """
    n, lanes = padded.shape[0] - 1, padded.shape[1]
    plan = _area_plan(n, dst, stride)
    integer_data = padded.dtype == np.uint8
    acc = np.zeros((dst, lanes), dtype=F32)
    if alpha is None:
        for k in range(plan.index.shape[0]):
            rows = padded[plan.index[k]]
            if integer_data and plan.integral[k]:
                # Weight 1 on an integer pixel (0 only on the zero padding row): a
                # float32 add rounds exactly as JS's `float32 += double` does, the
                # double sum being exact.
                np.add(acc, rows, out=acc)
            else:
                acc = (acc + rows * plan.weight[k][:, None]).astype(F32)
        scale = np.where(plan.covered > 0, 1 / np.where(plan.covered > 0, plan.covered, 1), 0)
        return acc.astype(F64) * scale[:, None], None

    acc_alpha = np.zeros((dst, lanes), dtype=F32)
    covered = np.zeros((dst, lanes), dtype=F64)
    for k in range(plan.index.shape[0]):
        rows = padded[plan.index[k]]
        alphas = alpha[plan.index[k]]
        w = plan.weight[k][:, None]
        seen = alphas != 0  # JS: `a ? r : 0`, fully transparent pixels add nothing
        acc = (acc + np.where(seen, rows, 0) * w).astype(F32)
        acc_alpha = (acc_alpha + alphas * w).astype(F32)
        covered = covered + np.where(seen, w, 0.0)
    scale = np.where(covered > 0, 1 / np.where(covered > 0, covered, 1), 0)
    return acc.astype(F64) * scale, (acc_alpha * (1 / plan.ratio)).astype(F32)


def _linear_pass(data: Array, dst: int) -> npt.NDArray[np.float64]:
    """Interpolate axis 0 of ``data`` up to ``dst`` (all channels alike)."""
    plan = _linear_plan(data.shape[0], dst)
    values = data.astype(F64, copy=False)
    return values[plan.lo] * plan.first[:, None] + values[plan.hi] * plan.second[:, None]


def _round_half_up(values: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    # Math.round, then stored into a Uint8Array (ToUint8 wraps modulo 256).
    return (np.floor(values + 0.5).astype(np.int64) % 256).astype(np.uint8)


class GreyPlanes:
    """A grey image (R = G = B in Jimp) and its alpha, in the layouts the passes read.

    The width pass reads columns as contiguous rows, so the transposed planes are
    made once (by Pillow, which transposes faster than numpy) and shared by every
    thumbnail size. ``alpha`` is None for an opaque image.
    """

    def __init__(self, grey: Image.Image, alpha: Image.Image | None) -> None:
        self.grey = grey
        self.alpha = alpha
        self.width, self.height = grey.size

    @cached_property
    def rows(self) -> npt.NDArray[np.uint8]:
        return _plane(self.grey)

    @cached_property
    def alpha_rows(self) -> npt.NDArray[np.uint8] | None:
        return None if self.alpha is None else _plane(self.alpha)

    @cached_property
    def columns(self) -> npt.NDArray[np.uint8]:
        return _padded_transpose(self.rows)

    @cached_property
    def alpha_columns(self) -> npt.NDArray[np.uint8] | None:
        return None if self.alpha_rows is None else _padded_transpose(self.alpha_rows)


def _plane(image: Image.Image) -> npt.NDArray[np.uint8]:
    """An 8-bit Pillow image as a read-only (height, width) array."""
    width, height = image.size
    return np.frombuffer(image.tobytes(), dtype=np.uint8).reshape(height, width)


_BLOCK = 256  # rows per transposed block: keeps both sides of the copy in cache


def _padded_transpose(rows: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``rows.T`` made contiguous, plus a zero row; blockwise, several times faster."""
    height, width = rows.shape
    out = np.empty((width + 1, height), dtype=np.uint8)
    for top in range(0, height, _BLOCK):
        out[:width, top : top + _BLOCK] = rows[top : top + _BLOCK].T
    out[width] = 0
    return out


def resize_grey(planes: GreyPlanes, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Resize to ``width`` x ``height`` as Jimp does; the grey channel, uint8 (height, width)."""
    src_w, src_h = planes.width, planes.height

    # Width pass, on columns laid out as rows; its outputs come back as (src_h, width).
    values: Array
    alpha_values: Array | None
    width_done = src_w != width
    if not width_done:
        values, alpha_values = planes.rows, planes.alpha_rows
    elif src_w < width:
        values = _linear_pass(planes.columns[:-1], width).astype(F32).T
        alpha_cols = planes.alpha_columns
        alpha_values = (
            None if alpha_cols is None else _linear_pass(alpha_cols[:-1], width).astype(F32).T
        )
    else:
        out, out_alpha = _area_pass(planes.columns, planes.alpha_columns, width, 4)
        values = out.astype(F32).T
        alpha_values = None if out_alpha is None else out_alpha.T

    if src_h == height:
        if not width_done:
            return np.array(planes.rows)
        # Buffer.from(Float32Array): ToUint8, i.e. truncation (NaN becomes 0).
        trunc = np.trunc(np.nan_to_num(np.asarray(values, dtype=F64)))
        return (trunc.astype(np.int64) % 256).astype(np.uint8)

    if src_h < height:
        return _round_half_up(_linear_pass(np.asarray(values), height))
    out, _ = _area_pass(
        _padded(np.asarray(values)),
        None if alpha_values is None else _padded(np.asarray(alpha_values)),
        height,
        width * 4,
    )
    return _round_half_up(out)
