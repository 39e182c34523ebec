"""PDQ's downscaling: two rounds of Jarosz box filters, then decimation to 64x64 (numpy).

Bit for bit the C++ reference's (facebook/ThreatExchange, ``pdq/cpp/downscaling/
downscaling.cpp``: ``computeJaroszFilterWindowSize``, ``jaroszFilterFloat``,
``box1DFloat``, ``decimateFloat``). A box filter there keeps one running float32
sum per row or column: each step adds the pixel entering the window, then
subtracts the one leaving it, rounding after each, and writes the sum divided by
the window's current width. The rounding makes every sum depend on all the steps
before it, so the steps are replayed in order here too; what numpy adds is doing
one step for every row (or column) of the image at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["SIDE", "decimation_indices", "downscale", "downscale_columns", "window_size"]

F32 = npt.NDArray[np.float32]

#: PDQ decimates to SIDE x SIDE.
SIDE = 64
#: Box passes in each direction (the reference's PDQ_NUM_JAROSZ_XY_PASSES).
_ROUNDS = 2
#: Below this many columns, one numpy call per step costs more than it saves: the
#: steps are laid out in one array and summed by ``np.cumsum``, which adds in order.
_MIN_WIDE = 100
#: Rows per strip when transposing (a strip's transpose stays in the CPU cache).
_STRIP = 256
#: Floats in the running sums of one block of a pass (32 MB): a pass takes its lines in
#: blocks of about this size, as few as fit, since each step is one numpy call per block.
_BLOCK_FLOATS = 8 * 1024 * 1024


def window_size(old: int, new: int) -> int:
    """Box width along a side of ``old`` pixels shrinking to ``new``: ceil(old / (2 new)).

    Two passes of half a destination pixel's width cover it once (the reference's
    ``computeJaroszFilterWindowSize``).
    """
    return (old + 2 * new - 1) // (2 * new)


def decimation_indices(old: int, new: int = SIDE) -> npt.NDArray[np.intp]:
    """The source index sampled for each of ``new`` outputs: the centre of its share.

    The reference computes ``(int)(((i + 0.5) * old) / new)`` in double, exact for
    any image size, hence this integer form.
    """
    return ((2 * np.arange(new, dtype=np.intp) + 1) * old) // (2 * new)


def downscale(luma: F32) -> F32:
    """The 64x64 float32 image PDQ hashes, from a float32 luma plane (rows, cols).

    ``luma`` is left as it is: the work is done on a transposed copy
    (:func:`downscale_columns`).
    """
    return downscale_columns(_transposed(luma))


def downscale_columns(columns: F32) -> F32:
    """The 64x64 float32 image (rows, cols) PDQ hashes, from its luma laid out by columns.

    ``columns`` is the luma plane transposed, (cols, rows), C-contiguous: an image row
    is a column of it. It is overwritten: the passes run in place, a block of lines at
    a time, so the memory needed beyond the plane is a few blocks, whatever its size.

    Like the reference's ``jaroszFilterFloat`` then ``decimateFloat``: per round a
    pass along the rows then one along the columns. In the last round only the 64
    sampled columns go through the pass along the columns, and only the 64 sampled
    rows of those are kept: the others are never read.
    """
    cols, rows = columns.shape
    along_rows, along_cols = window_size(cols, SIDE), window_size(rows, SIDE)
    for _ in range(_ROUNDS - 1):
        _box(columns, along_rows, out=columns)
        _box_each_row(columns, along_cols)
    sampled = _box(columns, along_rows, keep=decimation_indices(cols))  # (64, rows)
    return _box(_transposed(sampled), along_cols, keep=decimation_indices(rows))


def _transposed(x: F32, out: F32 | None = None) -> F32:
    """A C-contiguous transpose (into ``out`` when given), copied in strips: twice as fast
    as one copy when large."""
    if out is None:
        out = np.empty((x.shape[1], x.shape[0]), dtype=np.float32)
    for start in range(0, x.shape[0], _STRIP):
        out[:, start : start + _STRIP] = x[start : start + _STRIP].T
    return out


def _box(
    x: F32,
    window: int,
    keep: npt.NDArray[np.intp] | None = None,
    out: F32 | None = None,
) -> F32:
    """One box pass of ``window`` down axis 0 of ``x`` (each column on its own).

    Returns the rows ``keep`` of the result (all rows when None), written into ``out``
    when given (``x`` itself for a pass in place). The columns are taken a block at a
    time, so the running sums held at once are those of one block.
    """
    length, width = x.shape
    counts = _window_counts(length, window)
    if keep is not None:
        counts = counts[keep]
    if out is None:
        out = np.empty((len(counts), width), dtype=np.float32)
    block = _block(length, width)
    for start in range(0, width, block):
        part = x[:, start : start + block]
        wide = part.shape[1] >= _MIN_WIDE
        sums = _box_sums_wide(part, window) if wide else _box_sums_cumsum(part, window)
        if keep is not None:
            sums = sums[keep]
        np.divide(sums, counts[:, None], out=out[:, start : start + block])
    return out


def _block(length: int, lines: int) -> int:
    """How many of ``lines`` lines of ``length`` a pass takes at once: equal blocks of at
    most _BLOCK_FLOATS, an odd number of lines (a transpose reading rows a power of two
    apart, 4 KB, thrashes the CPU cache: four times slower)."""
    blocks = -(-length * lines // _BLOCK_FLOATS)
    return -(-lines // blocks) | 1


def _box_each_row(x: F32, window: int) -> None:
    """One box pass of ``window`` along axis 1 of ``x``, in place (each row on its own).

    A block of rows is transposed so that the pass runs down axis 0, one numpy call
    per step for every row of the block, and written back.
    """
    block = _block(x.shape[1], x.shape[0])
    for start in range(0, x.shape[0], block):
        part = x[start : start + block]
        turned = _transposed(part)
        _transposed(_box(turned, window, out=turned), out=part)


def _half(window: int) -> int:
    """Pixels in the window when its first sum is written (7 -> 4, 8 -> 5)."""
    return (window + 2) // 2


def _window_counts(length: int, window: int) -> F32:
    """The divisor of each output: the window grows to ``window``, then shrinks at the end."""
    half = _half(window)
    grow = np.arange(half, window + 1)
    shrink = np.arange(window - 1, window - half, -1)
    full = np.full(length - len(grow) - len(shrink), window)
    return np.concatenate([grow, full, shrink]).astype(np.float32)


def _box_sums_wide(x: F32, window: int) -> F32:
    """The running sums of ``box1DFloat``, one numpy call per step for all columns.

    Output row ``o`` holds the sum after the reference's ``o``-th write, and is the
    running sum the next step starts from.
    """
    length = x.shape[0]
    half = _half(window)
    sums = np.empty_like(x)
    # Row views made once, in C: indexing inside the loop would make two a step.
    rows, out = list(x), list(sums)
    step = np.zeros(x.shape[1], dtype=np.float32)
    for r in range(half - 1):  # phase 1: add, no writes
        np.add(step, rows[r], out=step)
    previous = step
    for o, r in enumerate(range(half - 1, window)):  # phase 2: add, write
        previous = np.add(previous, rows[r], out=out[o])
    o = window - half + 1
    for r in range(window, length):  # phase 3: add the entering pixel, drop the leaving one
        np.add(previous, rows[r], out=step)
        previous = np.subtract(step, rows[r - window], out=out[o])
        o += 1
    for left in range(length - window, length - window + half - 1):  # phase 4: drop, write
        previous = np.subtract(previous, rows[left], out=out[o])
        o += 1
    return sums


def _box_sums_cumsum(x: F32, window: int) -> F32:
    """The same running sums as ``_box_sums_wide``, for narrow ``x``.

    The reference's additions and subtractions, in its order, are laid out as one
    sequence per column (entering pixels, and leaving pixels negated: ``s - v`` and
    ``s + (-v)`` round alike); ``np.cumsum`` adds them one after another in float32,
    along the last axis, where it is fastest. It starts from the first pixel where
    the reference starts from 0 + that pixel: the same number.
    """
    length = x.shape[0]
    half = _half(window)
    full = length - window
    columns = x.T
    ops = np.empty((x.shape[1], window + 2 * full + half - 1), dtype=np.float32)
    ops[:, :window] = columns[:, :window]
    ops[:, window : window + 2 * full : 2] = columns[:, window:]
    np.negative(columns[:, :full], out=ops[:, window + 1 : window + 2 * full : 2])
    np.negative(columns[:, full : full + half - 1], out=ops[:, window + 2 * full :])
    np.cumsum(ops, axis=1, out=ops)
    sums = np.concatenate(
        [
            ops[:, half - 1 : window],
            ops[:, window + 1 : window + 2 * full : 2],
            ops[:, window + 2 * full :],
        ],
        axis=1,
    )
    return np.ascontiguousarray(sums.T)
