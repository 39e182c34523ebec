"""The numpy resizer against a literal, scalar transcription of JS-Image-Resizer.

The transcription below follows jimp 0.22's ``resize.js`` loop by loop on an
interleaved RGBA buffer, with float32 stores emulated by numpy scalars: slow,
obviously faithful, and independent of the vectorised implementation.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imghash._jimp_resize import GreyPlanes, resize_grey


def f32(value: float) -> float:
    return float(np.float32(value))


class JsResize:
    """Grant Galitz's resizer as Jimp runs it: RGBA (blendAlpha), interpolation on."""

    def __init__(self, w0: int, h0: int, tw: int, th: int) -> None:
        self.w0, self.h0, self.tw, self.th = w0, h0, tw, th
        self.ch = 4
        self.tw_ch = tw * 4
        self.w0_ch = w0 * 4
        self.h0_tw = h0 * self.tw_ch
        self.width_result_size = self.h0_tw
        self.final_size = self.tw_ch * th

    def resize(self, buffer: list[float]) -> list[float]:
        if self.w0 == self.tw:
            out = buffer
        elif self.w0 / self.tw < 1:
            out = self.width_interpolated(buffer)
        else:
            out = self.width_area(buffer)
        if self.h0 == self.th:
            return out
        if self.h0 / self.th < 1:
            return self.height_interpolated(out)
        return self.height_area(out)

    def width_interpolated(self, buffer: list[float]) -> list[float]:
        ratio = self.w0 / self.tw
        out = [0.0] * self.width_result_size
        weight = 0.0
        target = 0
        while weight < 1 / 3:
            final, pixel = target, 0
            while final < self.width_result_size:
                for c in range(4):
                    out[final + c] = f32(buffer[pixel + c])
                pixel += self.w0_ch
                final += self.tw_ch
            target += 4
            weight += ratio
        weight -= 1 / 3
        stop = self.w0 - 1
        while weight < stop:
            second = math.fmod(weight, 1)
            first = 1 - second
            final, pixel = target, math.floor(weight) * 4
            while final < self.width_result_size:
                for c in range(4):
                    out[final + c] = f32(buffer[pixel + c] * first + buffer[pixel + 4 + c] * second)
                pixel += self.w0_ch
                final += self.tw_ch
            target += 4
            weight += ratio
        stop_px = self.w0_ch - 4
        while target < self.tw_ch:
            final, pixel = target, stop_px
            while final < self.width_result_size:
                for c in range(4):
                    out[final + c] = f32(buffer[pixel + c])
                pixel += self.w0_ch
                final += self.tw_ch
            target += 4
        return out

    def width_area(self, buffer: list[float]) -> list[float]:
        ratio = self.w0 / self.tw
        divisor = 1 / ratio
        next_line_src = self.w0_ch - 4 + 1
        next_line_dst = self.tw_ch - 4 + 1
        h0_ch = self.h0 * 4
        work = [0.0] * h0_ch
        count = [0.0] * self.h0
        out = [0.0] * self.width_result_size
        actual = 0
        current = 0.0
        out_offset = 0
        while True:
            work = [0.0] * h0_ch
            count = [0.0] * self.h0
            weight = ratio
            while True:
                amount = 1 + actual - current
                mult = min(weight, amount)
                line, pixel = 0, actual
                while line < h0_ch:
                    r, g, b, a = (
                        buffer[pixel],
                        buffer[pixel + 1],
                        buffer[pixel + 2],
                        buffer[pixel + 3],
                    )
                    pixel += 3
                    work[line] = f32(work[line] + (r if a else 0) * mult)
                    work[line + 1] = f32(work[line + 1] + (g if a else 0) * mult)
                    work[line + 2] = f32(work[line + 2] + (b if a else 0) * mult)
                    work[line + 3] = f32(work[line + 3] + a * mult)
                    count[line // 4] += mult if a else 0
                    line += 4
                    pixel += next_line_src
                if weight >= amount:
                    actual += 4
                    current = actual
                    weight -= amount
                else:
                    current += weight
                    break
                if not (weight > 0 and actual < self.w0_ch):
                    break
            line, pixel = 0, out_offset
            while line < h0_ch:
                w = count[line // 4]
                m = (1 / w) if w else 0
                out[pixel] = f32(work[line] * m)
                out[pixel + 1] = f32(work[line + 1] * m)
                out[pixel + 2] = f32(work[line + 2] * m)
                out[pixel + 3] = f32(work[line + 3] * divisor)
                pixel += 3
                line += 4
                pixel += next_line_dst
            out_offset += 4
            if out_offset >= self.tw_ch:
                return out

    def height_interpolated(self, buffer: list[float]) -> list[float]:
        ratio = self.h0 / self.th
        out: list[float] = [0.0] * self.final_size
        final = 0
        weight = 0.0

        def put(value: float) -> None:
            nonlocal final
            if final < self.final_size:  # a Uint8Array ignores writes past its end
                out[final] = js_round_u8(value)
            final += 1

        while weight < 1 / 3:
            for p in range(self.tw_ch):
                put(buffer[p])
            weight += ratio
        weight -= 1 / 3
        stop = self.h0 - 1
        while weight < stop:
            second = math.fmod(weight, 1)
            first = 1 - second
            acc1 = math.floor(weight) * self.tw_ch
            acc2 = acc1 + self.tw_ch
            for p in range(self.tw_ch):
                put(buffer[acc1 + p] * first + buffer[acc2 + p] * second)
            weight += ratio
        while final < self.final_size:
            base = stop * self.tw_ch
            for p in range(self.tw_ch):
                put(buffer[base + p])
        return out

    def height_area(self, buffer: list[float]) -> list[float]:
        ratio = self.h0 / self.th
        divisor = 1 / ratio
        out = [0.0] * self.final_size
        actual = 0
        current = 0.0
        out_offset = 0
        while True:
            work = [0.0] * self.tw_ch
            count = [0.0] * self.tw
            weight = ratio
            while True:
                amount = 1 + actual - current
                mult = min(weight, amount)
                caret = actual
                p = 0
                while p < self.tw_ch:
                    r, g, b, a = (
                        buffer[caret],
                        buffer[caret + 1],
                        buffer[caret + 2],
                        buffer[caret + 3],
                    )
                    caret += 4
                    work[p] = f32(work[p] + (r if a else 0) * mult)
                    work[p + 1] = f32(work[p + 1] + (g if a else 0) * mult)
                    work[p + 2] = f32(work[p + 2] + (b if a else 0) * mult)
                    work[p + 3] = f32(work[p + 3] + a * mult)
                    count[p // 4] += mult if a else 0
                    p += 4
                if weight >= amount:
                    actual = caret
                    current = actual
                    weight -= amount
                else:
                    current += weight
                    break
                if not (weight > 0 and actual < self.width_result_size):
                    break
            p = 0
            while p < self.tw_ch:
                w = count[p // 4]
                m = (1 / w) if w else 0
                out[out_offset] = js_round_u8(work[p] * m)
                out[out_offset + 1] = js_round_u8(work[p + 1] * m)
                out[out_offset + 2] = js_round_u8(work[p + 2] * m)
                out[out_offset + 3] = js_round_u8(work[p + 3] * divisor)
                out_offset += 4
                p += 4
            if out_offset >= self.final_size:
                return out


def js_round_u8(value: float) -> int:
    """Math.round, then a Uint8Array store (ToUint8: modulo 256)."""
    return math.floor(value + 0.5) % 256


def js_resize_grey(grey: np.ndarray, alpha: np.ndarray | None, tw: int, th: int) -> np.ndarray:
    h0, w0 = grey.shape
    a = np.full_like(grey, 255) if alpha is None else alpha
    rgba = np.stack([grey, grey, grey, a], axis=-1).astype(np.float64).ravel().tolist()
    out = JsResize(w0, h0, tw, th).resize(rgba)
    if h0 == th and w0 != tw:  # Buffer.from(Float32Array): truncation
        out = [int(v) % 256 for v in out]
    return np.asarray(out, dtype=np.float64).reshape(th, tw, 4)[..., 0].astype(np.uint8)


def ours(
    grey: np.ndarray, alpha: np.ndarray | None, tw: int, th: int, targets: tuple[int, ...] = ()
) -> np.ndarray:
    planes = GreyPlanes.from_rows(grey, alpha)
    return resize_grey(planes, tw, th, targets)


SIZES = [
    (1, 1),
    (2, 3),
    (7, 5),
    (8, 8),
    (9, 8),
    (13, 11),
    (24, 18),
    (31, 33),
    (32, 32),
    (40, 30),
    (67, 45),
    (100, 7),
    (3, 100),
    (200, 12),
    (30, 200),
]
TARGETS = [(8, 8), (9, 8), (32, 32)]


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize(("tw", "th"), TARGETS)
def test_opaque_matches_the_javascript(width: int, height: int, tw: int, th: int) -> None:
    rng = np.random.default_rng(width * 1000 + height)
    grey = rng.integers(0, 256, (height, width), dtype=np.uint8)
    np.testing.assert_array_equal(ours(grey, None, tw, th), js_resize_grey(grey, None, tw, th))


@pytest.mark.parametrize(("width", "height"), [(13, 11), (40, 30), (67, 45), (7, 5), (30, 200)])
@pytest.mark.parametrize(("tw", "th"), TARGETS)
def test_transparency_matches_the_javascript(width: int, height: int, tw: int, th: int) -> None:
    rng = np.random.default_rng(width + height)
    grey = rng.integers(0, 256, (height, width), dtype=np.uint8)
    alpha = rng.choice(np.array([0, 0, 0, 1, 128, 255], dtype=np.uint8), (height, width))
    alpha[: height // 3] = 0  # a fully transparent band, as in the corpus's alpha PNG
    np.testing.assert_array_equal(ours(grey, alpha, tw, th), js_resize_grey(grey, alpha, tw, th))


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 90),
    height=st.integers(1, 90),
    target=st.sampled_from(TARGETS),
    seed=st.integers(0, 2**32 - 1),
    smooth=st.booleans(),
)
def test_any_size_matches_the_javascript(
    width: int, height: int, target: tuple[int, int], seed: int, smooth: bool
) -> None:
    rng = np.random.default_rng(seed)
    if smooth:  # long runs of equal values stress the float32 accumulation order
        grey = np.repeat(rng.integers(0, 256, (height, 1), dtype=np.uint8), width, axis=1)
    else:
        grey = rng.integers(0, 256, (height, width), dtype=np.uint8)
    tw, th = target
    np.testing.assert_array_equal(ours(grey, None, tw, th), js_resize_grey(grey, None, tw, th))


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(10, 700),
    height=st.integers(1, 12),
    target=st.sampled_from(TARGETS),
    seed=st.integers(0, 2**32 - 1),
)
def test_fused_width_pass_matches_the_javascript(
    width: int, height: int, target: tuple[int, int], seed: int
) -> None:
    # Wide rows: long runs of weight-1 pixels, summed exactly from the shared column sums
    # (all three widths at once), next to outputs whose first weight is fractional.
    rng = np.random.default_rng(seed)
    grey = rng.integers(0, 256, (height, width), dtype=np.uint8)
    if seed % 2:
        grey[:, : width // 2] = 255  # bright runs: the largest sums
    tw, th = target
    np.testing.assert_array_equal(
        ours(grey, None, tw, th, (8, 9, 32)), js_resize_grey(grey, None, tw, th)
    )


def test_same_size_is_returned_unchanged() -> None:
    grey = np.arange(72, dtype=np.uint8).reshape(8, 9)
    np.testing.assert_array_equal(ours(grey, None, 9, 8), grey)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (3, 40_000),  # runs of 5,000 rows: gathered in chunks for np.add.accumulate
        (40_000, 3),  # the width pass's long runs, few lanes
        (1_000, 700),  # many lanes: runs added row by row
    ],
)
@pytest.mark.parametrize(("tw", "th"), TARGETS)
def test_long_runs_and_many_lanes_match_the_step_by_step_resizer(
    width: int, height: int, tw: int, th: int
) -> None:
    # The oracle adds every source step of every output one at a time (the resizer as it
    # was before the fused passes); smooth rows make the float32 order matter.
    from PIL import Image

    from tests.oracle import legacy_resize

    rng = np.random.default_rng(width + height)
    grey = (rng.integers(0, 256, (height, 1)) + rng.integers(0, 3, (height, width))).clip(0, 255)
    grey = grey.astype(np.uint8)
    legacy = legacy_resize.GreyPlanes(Image.fromarray(grey, "L"), None)
    np.testing.assert_array_equal(
        ours(grey, None, tw, th, (8, 9, 32)), legacy_resize.resize_grey(legacy, tw, th)
    )


def _steps_of(plan: object, j: int, src: int) -> list[tuple[int, float]]:
    index = plan.index[:, j].tolist()  # type: ignore[attr-defined]
    weight = plan.weight[:, j].tolist()  # type: ignore[attr-defined]
    return [(i, w) for i, w in zip(index, weight, strict=True) if i != src]


@given(
    src=st.integers(2, 20_000),
    dst=st.integers(1, 64),
    stride=st.sampled_from([1, 3, 4, 8 * 4, 9 * 4, 32 * 4, 4_000 * 4]),
)
@settings(max_examples=400, deadline=None)
def test_the_walk_equals_the_step_by_step_simulation(src: int, dst: int, stride: int) -> None:
    # The oracle walks the source one step at a time, with the JS's doubles (the planner
    # as it was); the walk takes each output's run of whole steps at once.
    from imghash import _jimp_resize
    from tests.oracle import legacy_resize

    if dst >= src:
        return  # the area plan is for downscaling only
    ours = _jimp_resize._area_plan(src, dst, stride)
    legacy = legacy_resize._area_plan(src, dst, stride)
    np.testing.assert_array_equal(ours.index, legacy.index)
    np.testing.assert_array_equal(ours.weight, legacy.weight)
    np.testing.assert_array_equal(ours.covered, legacy.covered)  # the same doubles, in order
    assert ours.integral == legacy.integral
    for j, entries in enumerate(_jimp_resize._walk(src, dst, stride)):
        expanded = [(i, w) for first, stop, w in entries for i in range(first, stop)]
        assert expanded == _steps_of(legacy, j, src)
        for (_, stop, w), (first, _, w_next) in itertools.pairwise(entries):
            assert not (w == 1 and w_next == 1 and stop == first)  # runs are merged


@pytest.mark.parametrize(
    ("src", "dst", "stride"),
    [(4032, 8, 4), (4032, 9, 4), (3024, 32, 128), (1704, 9, 4), (7, 3, 4), (1_000_001, 7, 4)],
)
def test_the_walk_on_photo_sizes_and_residues(src: int, dst: int, stride: int) -> None:
    from imghash import _jimp_resize
    from tests.oracle import legacy_resize

    ours = _jimp_resize._area_plan(src, dst, stride)
    legacy = legacy_resize._area_plan(src, dst, stride)
    np.testing.assert_array_equal(ours.index, legacy.index)
    np.testing.assert_array_equal(ours.weight, legacy.weight)
    np.testing.assert_array_equal(ours.covered, legacy.covered)
