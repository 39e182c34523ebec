"""One image's row blocks (and a JPEG's parts) shared among threads: same values, every error
raised, no thread left behind, and one thread in a pool's worker."""

from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from PIL import Image

import imghash
from imghash import _threads
from imghash._decode import decode
from imghash._pixels import jimp_planes, pdq_columns
from imghash._settings import Settings
from tests.helpers import encode, photo_like


def test_the_tops_are_each_filled_once_in_runs_of_consecutive_blocks() -> None:
    seen: list[range] = []
    lock = threading.Lock()

    def fill(tops: range) -> None:
        with lock:
            seen.append(tops)

    _threads.for_blocks(1000, 32, 4096, 3, fill)  # 4 MP: room for three threads
    assert len(seen) == 3
    assert sorted(t for run in seen for t in run) == list(range(0, 1000, 32))
    assert all(run.step == 32 and len(run) >= 10 for run in seen)


def test_a_small_image_stays_on_the_calling_thread() -> None:
    callers: list[int] = []
    _threads.for_blocks(500, 32, 1000, 4, lambda tops: callers.append(threading.get_ident()))
    assert callers == [threading.get_ident()]  # 0.5 MP: below a thread's worth


@pytest.mark.parametrize("failing", [0, 2], ids=["first run", "last run"])
def test_an_error_in_any_run_is_raised_after_every_run_ended(failing: int) -> None:
    ended: list[int] = []

    def fill(tops: range) -> None:
        run = tops.start // 320
        if run == failing:
            raise MemoryError(f"run {run}")
        ended.append(run)

    before = threading.active_count()
    with pytest.raises(MemoryError, match=f"run {failing}"):
        _threads.for_blocks(960, 32, 4096, 3, fill)
    assert sorted(ended) == sorted({0, 1, 2} - {failing})
    assert threading.active_count() == before


def test_where_no_thread_can_be_started_the_runs_go_on_in_this_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    callers: list[tuple[int, range]] = []

    def fill(tops: range) -> None:
        callers.append((threading.get_ident(), tops))

    _threads.for_blocks(960, 32, 4096, 3, fill)
    assert {ident for ident, _ in callers} == {threading.get_ident()}
    assert sorted(t for _, run in callers for t in run) == list(range(0, 960, 32))


def test_threads_started_are_joined_when_starting_another_fails_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = threading.Thread.start
    calls: list[int] = []

    def second_fails(self: threading.Thread) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("no memory for a stack")
        start(self)

    release = threading.Event()
    finished: list[range] = []

    def fill(tops: range) -> None:
        release.wait(5)  # still running when the second start fails
        finished.append(tops)

    before = threading.active_count()
    timer = threading.Timer(0.2, release.set)
    timer.start()
    monkeypatch.setattr(threading.Thread, "start", second_fails)
    with pytest.raises(MemoryError):
        _threads.for_blocks(960, 32, 4096, 3, fill)
    assert len(finished) == 1  # the started thread's run ended before the error was raised
    timer.join()
    assert threading.active_count() == before


def test_run_all_runs_each_part_once_the_first_here_each_other_on_its_own_thread() -> None:
    ran: list[tuple[str, int]] = []
    lock = threading.Lock()

    def work(part: str) -> None:
        with lock:
            ran.append((part, threading.get_ident()))
        if part == "c":
            raise ValueError("part c")

    before = threading.active_count()
    with pytest.raises(ValueError, match="part c"):
        _threads.run_all(work, ["a", "b", "c", "d"])
    assert sorted(part for part, _ in ran) == ["a", "b", "c", "d"]
    here = [part for part, ident in ran if ident == threading.get_ident()]
    assert here == ["a"]  # the others ran on threads of their own
    assert threading.active_count() == before


def test_the_thread_count() -> None:
    assert _threads.image_threads(3) == 3  # IMGHASH_THREADS wins
    assert 1 <= _threads.image_threads(0) <= _threads.MAX_THREADS
    assert Settings.from_environ({}).threads == 0
    assert Settings.from_environ({"IMGHASH_THREADS": "2"}).threads == 2
    for wrong in ("-1", str(_threads.MAX_REQUESTED_THREADS + 1)):
        with pytest.raises(imghash.InvalidRequest, match="IMGHASH_THREADS"):
            Settings.from_environ({"IMGHASH_THREADS": wrong})


def test_a_pool_worker_takes_one_thread() -> None:
    with ProcessPoolExecutor(1) as pool:
        assert pool.submit(_threads.image_threads, 0).result() == 1
        assert pool.submit(_threads.image_threads, 2).result() == 2


def _turned(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", exif=exif.tobytes())


def _images() -> list[bytes]:
    """Every pixel kind the block readers know, turned every way, at sizes whose blocks
    do not divide evenly."""
    rng = np.random.default_rng(5)
    image = photo_like(301, 517)
    photo = np.asarray(image)
    out = [_turned(image, orientation) for orientation in range(1, 9)]
    rgba = np.dstack([photo, rng.integers(0, 256, photo.shape[:2], dtype=np.uint8)])
    out.append(encode(Image.fromarray(rgba, "RGBA")))
    out.append(encode(Image.fromarray(photo[..., 0], "L")))
    out.append(encode(Image.fromarray(rgba[..., [0, 3]].copy(), "LA")))
    out.append(encode(Image.fromarray(photo[..., 1].astype(np.uint16) * 257)))
    neutral = np.repeat(photo[..., :1], 3, axis=2)  # every pixel on a whole grey
    out.append(encode(Image.fromarray(neutral, "RGB")))
    return out


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_split_planes_equal_one_threads(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    monkeypatch.setattr(_threads, "MIN_PIXELS_PER_THREAD", 1)  # split even these small images
    settings = Settings()
    for data in _images():
        decoded = decode(data, settings)
        one, split = jimp_planes(decoded, 1), jimp_planes(decoded, threads)
        np.testing.assert_array_equal(split.padded_columns, one.padded_columns)
        if one.padded_alpha_columns is None:
            assert split.padded_alpha_columns is None
        else:
            np.testing.assert_array_equal(split.padded_alpha_columns, one.padded_alpha_columns)
        for turn in (False, True):
            np.testing.assert_array_equal(
                pdq_columns(decoded, turn=turn, threads=threads),
                pdq_columns(decoded, turn=turn, threads=1),
            )


def test_hashes_with_threads_equal_hashes_without(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "MIN_PIXELS_PER_THREAD", 1)
    data = _turned(photo_like(640, 480), 6)
    for profile in ("jimp", "imagehash"):
        one = imghash.hash_image(
            data, algorithms="all,pdq", profile=profile, settings=Settings(threads=1)
        )
        before = threading.active_count()
        split = imghash.hash_image(
            data, algorithms="all,pdq", profile=profile, settings=Settings(threads=3)
        )
        assert threading.active_count() == before  # no thread outlives the call
        assert split == one
