"""Jimp 0.22's default resizer, reproduced bit for bit on numpy.

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
from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = ["resize_grey"]

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


def _area_pass(
    data: Array, alpha: Array | None, dst: int, stride: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32] | None]:
    """Area-average axis 0 of ``data`` (n, L) down to ``dst``; return values before storage.

    Returns the colour sums already divided by their divisor, in float64 (the
    caller stores them as float32 or rounds them), and the averaged alpha as
    float32 when there is an alpha channel.
    """
    n, lanes = data.shape
    plan = _area_plan(n, dst, stride)
    integer_data = data.dtype == np.uint8
    pad = np.zeros((1, lanes), dtype=F32 if integer_data else data.dtype)
    padded = np.concatenate([data.astype(pad.dtype, copy=False), pad])
    acc = np.zeros((dst, lanes), dtype=F32)
    if alpha is None:
        for k in range(plan.index.shape[0]):
            rows = padded[plan.index[k]]
            if integer_data and plan.integral[k]:
                # weight 0 or 1 on integer pixels: a float32 add rounds exactly as
                # JS's `float32 += double` does (the double sum is exact here).
                rows *= plan.weight[k][:, None].astype(F32)
                acc += rows
            else:
                acc = (acc + rows * plan.weight[k][:, None]).astype(F32)
        scale = np.where(plan.covered > 0, 1 / np.where(plan.covered > 0, plan.covered, 1), 0)
        return acc * scale[:, None], None

    alpha_padded = np.concatenate([alpha.astype(F32, copy=False), np.zeros((1, lanes), F32)])
    acc_alpha = np.zeros((dst, lanes), dtype=F32)
    covered = np.zeros((dst, lanes), dtype=F64)
    for k in range(plan.index.shape[0]):
        rows = padded[plan.index[k]]
        alphas = alpha_padded[plan.index[k]]
        w = plan.weight[k][:, None]
        seen = alphas != 0  # JS: `a ? r : 0`, fully transparent pixels add nothing
        acc = (acc + np.where(seen, rows, 0) * w).astype(F32)
        acc_alpha = (acc_alpha + alphas * w).astype(F32)
        covered = covered + np.where(seen, w, 0.0)
    scale = np.where(covered > 0, 1 / np.where(covered > 0, covered, 1), 0)
    return acc * scale, (acc_alpha * (1 / plan.ratio)).astype(F32)


def _linear_pass(data: Array, dst: int) -> npt.NDArray[np.float64]:
    """Interpolate axis 0 of ``data`` up to ``dst`` (all channels alike)."""
    plan = _linear_plan(data.shape[0], dst)
    values = data.astype(F64, copy=False)
    return values[plan.lo] * plan.first[:, None] + values[plan.hi] * plan.second[:, None]


def _round_half_up(values: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    # Math.round, then stored into a Uint8Array (ToUint8 wraps modulo 256).
    return (np.floor(values + 0.5).astype(np.int64) % 256).astype(np.uint8)


def resize_grey(
    grey: npt.NDArray[np.uint8], alpha: npt.NDArray[np.uint8] | None, width: int, height: int
) -> npt.NDArray[np.uint8]:
    """Resize a grey image (R = G = B in Jimp) to ``width`` x ``height`` as Jimp does.

    ``alpha`` is None for an opaque image. Returns the grey channel, uint8 (height, width).
    """
    src_h, src_w = grey.shape
    if alpha is not None and bool(np.all(alpha == 255)):
        alpha = None

    # Width pass: work with the resized axis first, rows as lanes.
    values: Array
    alpha_values: Array | None
    width_done = src_w != width
    if not width_done:
        values, alpha_values = grey, alpha
    else:
        cols = np.ascontiguousarray(grey.T)
        alpha_cols = None if alpha is None else np.ascontiguousarray(alpha.T)
        if src_w < width:
            both = _linear_pass(cols, width).astype(F32)
            values = both.T
            alpha_values = None if alpha_cols is None else _linear_pass(alpha_cols, width).astype(F32).T
        else:
            out, out_alpha = _area_pass(cols, alpha_cols, width, 4)
            values = out.astype(F32).T
            alpha_values = None if out_alpha is None else out_alpha.T

    if src_h == height:
        if not width_done:
            return np.ascontiguousarray(grey)
        # Buffer.from(Float32Array): ToUint8, i.e. truncation (NaN becomes 0).
        trunc = np.trunc(np.nan_to_num(np.asarray(values, dtype=F64)))
        return (trunc.astype(np.int64) % 256).astype(np.uint8)

    if src_h < height:
        return _round_half_up(_linear_pass(np.asarray(values), height))
    out, _ = _area_pass(
        np.asarray(values), None if alpha_values is None else np.asarray(alpha_values),
        height, width * 4,
    )
    return _round_half_up(out)
