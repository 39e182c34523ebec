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
from functools import cached_property, lru_cache

import numpy as np
import numpy.typing as npt

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
    scale: npt.NDArray[np.float64]  # (dst,) 1 / covered, 0 where nothing is covered
    ratio: float


@dataclass(frozen=True)
class _LinearPlan:
    """Where each output pixel of an upscaling pass reads: lo*(1-f) + (lo+1)*f."""

    lo: npt.NDArray[np.intp]
    hi: npt.NDArray[np.intp]
    first: npt.NDArray[np.float64]
    second: npt.NDArray[np.float64]


Entry = tuple[int, int, float]


@lru_cache(maxsize=256)
def _walk(src: int, dst: int, stride: int) -> tuple[tuple[Entry, ...], ...]:
    """The JS's walk over the source for each output: its steps as (first, last + 1, weight),
    a run of weight-1 steps on consecutive source pixels being one entry (weight 1.0).

    Positions are kept in the JS's units (pixel index times `stride`) because
    `1 + actualPosition - currentPosition` rounds differently at other scales. An output's
    first step can have any weight; after a whole step the position is reset to a whole
    pixel (``current = actual``), so every later step weighs exactly 1 while at least 1 is
    left (subtracting 1 from a double of at least 1 is exact), and the last takes what is
    left, under 1. So the run of whole steps is taken at once, and the walk costs a few
    operations per output, not one loop per source pixel (tests/unit/test_jimp_resize.py
    checks it against that loop).
    """
    ratio = src / dst
    end = src * stride
    actual = 0
    current = 0.0
    outputs: list[tuple[Entry, ...]] = []
    for _ in range(dst):
        weight = ratio
        amount = 1 + actual - current
        part = min(weight, amount)
        first = min(actual // stride, src - 1)
        entries = [(first, first + 1, part)]
        if weight >= amount:
            actual += stride
            current = float(actual)
            weight -= amount
            if weight > 0 and actual < end:
                whole = min(int(weight), (end - actual) // stride)
                if whole:
                    start = actual // stride
                    if part == 1:  # the first step weighed 1 too: one run
                        entries[0] = (first, start + whole, 1.0)
                    else:
                        entries.append((start, start + whole, 1.0))
                    actual += whole * stride
                    current = float(actual)
                    weight -= whole
                if weight > 0 and actual < end:  # less than 1 left: the last, partial step
                    entries.append((actual // stride, actual // stride + 1, weight))
                    current += weight
        else:
            current += weight
        outputs.append(tuple(entries))
    return tuple(outputs)


@lru_cache(maxsize=256)
def _area_plan(src: int, dst: int, stride: int) -> _AreaPlan:
    walk = _walk(src, dst, stride)
    depth = max(sum(stop - first for first, stop, _ in entries) for entries in walk)
    index = np.full((depth, dst), src, dtype=np.intp)
    weights = np.zeros((depth, dst), dtype=F64)
    covered = np.zeros(dst, dtype=F64)
    for j, entries in enumerate(walk):
        k = 0
        total = 0.0
        for first, stop, weight in entries:
            steps = stop - first
            index[k : k + steps, j] = np.arange(first, stop)
            weights[k : k + steps, j] = weight
            for _ in range(steps):  # the JS's running sum, one step at a time
                total += weight
            k += steps
        covered[j] = total
    integral = tuple(bool(flag) for flag in np.all((weights == 0) | (weights == 1), axis=1))
    scale = np.where(covered > 0, 1 / np.where(covered > 0, covered, 1), 0)
    return _AreaPlan(index, weights, integral, covered, scale, src / dst)


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
        return acc.astype(F64) * plan.scale[:, None], None

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
    """A grey image (R = G = B in Jimp) and its alpha, laid out for the width pass.

    ``padded_columns`` is the grey image transposed, (width + 1, height) uint8: source
    columns as contiguous rows, then a zero row where a plan's padding steps read. The
    thumbnail sizes share it and the integer column sums made from it (``_ColumnSums``).
    ``padded_alpha_columns`` is the alpha laid out alike, or None for an opaque image.
    """

    def __init__(
        self,
        padded_columns: npt.NDArray[np.uint8],
        padded_alpha_columns: npt.NDArray[np.uint8] | None = None,
    ) -> None:
        self.padded_columns = padded_columns
        self.padded_alpha_columns = padded_alpha_columns
        self.width = padded_columns.shape[0] - 1
        self.height = padded_columns.shape[1]
        self._sums: dict[tuple[int, ...], _ColumnSums] = {}

    @classmethod
    def from_rows(
        cls, grey: npt.NDArray[np.uint8], alpha: npt.NDArray[np.uint8] | None = None
    ) -> GreyPlanes:
        """Planes of a (height, width) grey image and its alpha (tests, small images)."""
        return cls(_padded_transpose(grey), None if alpha is None else _padded_transpose(alpha))

    @cached_property
    def rows(self) -> npt.NDArray[np.uint8]:
        return np.ascontiguousarray(self.padded_columns[:-1].T)

    @cached_property
    def alpha_rows(self) -> npt.NDArray[np.uint8] | None:
        alpha = self.padded_alpha_columns
        return None if alpha is None else np.ascontiguousarray(alpha[:-1].T)

    def column_sums(self, targets: tuple[int, ...]) -> _ColumnSums:
        """Exact integer sums of the column runs that the plans for ``targets`` weigh by 1."""
        if targets not in self._sums:
            self._sums[targets] = _ColumnSums(self.padded_columns, targets)
        return self._sums[targets]


#: Most uint8 values a uint16 sum can hold without overflow (255 * 257 = 65535).
_UINT16_RUN = 257


class _ColumnSums:
    """Sums of whole runs of source columns, exact, for every width target at once.

    Jimp adds an output's pixels one by one into float32. While every weight so far is 1
    on an integer pixel, each partial sum is an integer below 2^24, so exact: the running
    float32 sum equals the integer sum of the run. Those runs are read here from prefix
    sums at their boundaries, made with exact uint16 reductions of at most 257 rows.
    """

    def __init__(self, padded: npt.NDArray[np.uint8], targets: tuple[int, ...]) -> None:
        width = padded.shape[0] - 1
        bounds = {0}
        for target in targets:
            if target < width:
                for entries in _walk(width, target, 4):
                    if entries[0][2] == 1:  # the output starts with a run of weight 1
                        bounds.update(entries[0][:2])
        self.bounds = np.array(sorted(bounds), dtype=np.intp)
        lanes = padded.shape[1]
        self.prefix = np.zeros((self.bounds.size, lanes), dtype=np.uint32)
        running = np.zeros(lanes, dtype=np.uint32)
        for i in range(1, self.bounds.size):
            for top in range(int(self.bounds[i - 1]), int(self.bounds[i]), _UINT16_RUN):
                bottom = min(top + _UINT16_RUN, int(self.bounds[i]))
                running += np.add.reduce(padded[top:bottom], axis=0, dtype=np.uint16)
            self.prefix[i] = running

    def run(
        self, start: npt.NDArray[np.intp], stop: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.uint32]:
        """Sums of source columns ``start[j]:stop[j]``, (len(start), lanes) uint32."""
        where = np.searchsorted(self.bounds, np.concatenate([start, stop]))
        upper = self.prefix[where[start.size :]]
        upper -= self.prefix[where[: start.size]]
        return upper


@lru_cache(maxsize=256)
def _summed_runs(
    src: int, dst: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The width outputs that start with a run of weight 1, each run's first source column
    and the column after its last."""
    runs = _walk(src, dst, 4)
    summed = [j for j, entries in enumerate(runs) if entries[0][2] == 1]
    return (
        np.array(summed, dtype=np.intp),
        np.array([runs[j][0][0] for j in summed], dtype=np.intp),
        np.array([runs[j][0][1] for j in summed], dtype=np.intp),
    )


def _opaque_width_pass(
    planes: GreyPlanes, dst: int, targets: tuple[int, ...]
) -> npt.NDArray[np.float64]:
    """The width pass of an opaque image: ``_area_pass`` on the columns, fused.

    An output whose first steps weigh 1 starts from the exact sum of that run (from the
    column sums shared by every target width) and adds its few remaining steps (usually
    one fractional weight) in order. The outputs whose first weight is fractional add all
    their steps in order. All in float32, in Jimp's order (``_add_entries``).
    """
    padded = planes.padded_columns
    n = padded.shape[0] - 1
    plan = _area_plan(n, dst, 4)
    summed, first, stop = _summed_runs(n, dst)
    acc = np.zeros((dst, padded.shape[1]), dtype=F32)
    if summed.size:
        acc[summed] = planes.column_sums(targets).run(first, stop)  # exact: below 2^24
    _add_entries(acc, padded, _entries(n, dst, 4, summed=True))
    return acc.astype(F64) * plan.scale[:, None]


@dataclass(frozen=True)
class _Entries:
    """The n-th entry (``_walk``) of every output that has one, split by kind."""

    #: Outputs whose entry is a run of weight-1 steps, and the rows of each run as columns
    #: of ``rows``, the shorter runs padded with the zero row (adding 0 changes no float32).
    run_outputs: npt.NDArray[np.intp]
    rows: npt.NDArray[np.intp]  # (longest run, len(run_outputs))
    #: Outputs whose entry is one step, its row and its weight.
    step_outputs: npt.NDArray[np.intp]
    step_rows: npt.NDArray[np.intp]
    step_weights: npt.NDArray[np.float64]  # (len(step_outputs), 1)


@lru_cache(maxsize=256)
def _entries(src: int, dst: int, stride: int, *, summed: bool = False) -> tuple[_Entries, ...]:
    """Every output's entries, the n-th of all outputs together, n = 0, 1, ...

    ``summed``: leave out the first entry of the outputs that start with a run of weight 1
    (the fused width pass takes those runs from exact column sums).
    """
    runs = _walk(src, dst, stride)
    if summed:
        runs = tuple(entries[1:] if entries[0][2] == 1 else entries for entries in runs)
    made = []
    for n in range(max(len(entries) for entries in runs)):
        long: list[tuple[int, int, int, float]] = []
        single: list[tuple[int, int, int, float]] = []
        for j, entries in enumerate(runs):
            if n < len(entries):
                first, stop, weight = entries[n]
                group = long if weight == 1 and stop - first > 1 else single
                group.append((j, first, stop, weight))
        depth = max((stop - first for _, first, stop, _ in long), default=0)
        rows = np.full((depth, len(long)), src, dtype=np.intp)
        for k, (_, first, stop, _) in enumerate(long):
            rows[: stop - first, k] = np.arange(first, stop)
        made.append(
            _Entries(
                np.array([j for j, *_ in long], dtype=np.intp),
                rows,
                np.array([j for j, *_ in single], dtype=np.intp),
                np.array([first for _, first, _, _ in single], dtype=np.intp),
                np.array([weight for *_, weight in single], dtype=F64).reshape(-1, 1),
            )
        )
    return tuple(made)


#: Up to this many lanes (outputs times lanes) a run of weight 1 is added by one
#: ``np.add.accumulate`` down the run; wider, row by row (one vector add a row), which
#: ``accumulate`` along an axis of many lanes is several times slower than.
_ACCUMULATED_LANES = 64
#: Values of the runs gathered (as float32) at once: memory stays bounded, and within a
#: core's cache, for long runs and wide lanes.
_GATHERED = 1 << 16


def _add_entries(
    acc: npt.NDArray[np.float32], padded: Array, entries: tuple[_Entries, ...]
) -> None:
    """Add each output's entries into its row of ``acc``, in order, as the JS does.

    ``padded`` is (n + 1, lanes), uint8 or float32, its last row zero. Each step of a run of
    weight 1 is a float32 addition (row by row, or ``np.add.accumulate``, which adds in
    order, never pairwise): it rounds as JS's `float32 += double` does, the double sum of
    two float32 values being exact. Other steps multiply in double, as the JS does, and
    round the sum to float32. The outputs go side by side, element-wise, so each output's
    arithmetic is what it would be alone.
    """
    lanes = padded.shape[1]
    for entry in entries:
        outputs = entry.run_outputs
        if outputs.size:
            total = acc[outputs]
            wide = outputs.size * lanes
            chunk = max(1, _GATHERED // wide)
            for top in range(0, entry.rows.shape[0], chunk):
                rows = entry.rows[top : top + chunk]
                if wide <= _ACCUMULATED_LANES:
                    stacked = np.empty((rows.shape[0] + 1, outputs.size, lanes), dtype=F32)
                    stacked[0] = total
                    stacked[1:] = padded[rows]  # uint8 to float32 is exact
                    total = np.add.accumulate(stacked, axis=0, dtype=F32)[-1]
                else:
                    for row in padded[rows].astype(F32, copy=False):
                        np.add(total, row, out=total)
            acc[outputs] = total
        outputs = entry.step_outputs
        if outputs.size:
            step = padded[entry.step_rows].astype(F64) * entry.step_weights
            acc[outputs] = (acc[outputs] + step).astype(F32)


def _sequential_pass(values: Array, dst: int, stride: int) -> npt.NDArray[np.float64]:
    """``_area_pass`` without alpha, each output in Jimp's order (``_add_entries``).

    ``values`` is (n, lanes), uint8 or float32.
    """
    n, lanes = values.shape
    plan = _area_plan(n, dst, stride)
    acc = np.zeros((dst, lanes), dtype=F32)
    _add_entries(acc, _padded(values), _entries(n, dst, stride))
    return acc.astype(F64) * plan.scale[:, None]


def _padded_transpose(rows: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``rows.T`` made contiguous, plus a zero row."""
    height, width = rows.shape
    out = np.empty((width + 1, height), dtype=np.uint8)
    out[:width] = rows.T
    out[width] = 0
    return out


def resize_grey(
    planes: GreyPlanes, width: int, height: int, targets: tuple[int, ...] = ()
) -> npt.NDArray[np.uint8]:
    """Resize to ``width`` x ``height`` as Jimp does; the grey channel, uint8 (height, width).

    ``targets``: every width the caller will ask for, so that the column sums that serve
    opaque width passes are made once for all of them.
    """
    src_w, src_h = planes.width, planes.height

    # Width pass, on columns laid out as rows; its outputs come back as (src_h, width).
    values: Array
    alpha_values: Array | None
    width_done = src_w != width
    if not width_done:
        values, alpha_values = planes.rows, planes.alpha_rows
    elif src_w < width:
        values = _linear_pass(planes.padded_columns[:-1], width).astype(F32).T
        alpha_cols = planes.padded_alpha_columns
        alpha_values = (
            None if alpha_cols is None else _linear_pass(alpha_cols[:-1], width).astype(F32).T
        )
    elif planes.padded_alpha_columns is None:
        wanted = tuple(sorted({*targets, width}))
        values = _opaque_width_pass(planes, width, wanted).astype(F32).T
        alpha_values = None
    else:
        out, out_alpha = _area_pass(planes.padded_columns, planes.padded_alpha_columns, width, 4)
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
    if alpha_values is None:
        return _round_half_up(_sequential_pass(np.asarray(values), height, width * 4))
    out, _ = _area_pass(
        _padded(np.asarray(values)),
        None if alpha_values is None else _padded(np.asarray(alpha_values)),
        height,
        width * 4,
    )
    return _round_half_up(out)
