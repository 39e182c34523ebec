"""The batch runner, with fake fetching and hashing: order, one hash at a time, a few
fetches at a time, fetched images first, the budgets, and one item's bug kept to it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from imghash import Settings
from imghash._errors import UnsupportedImage, UpstreamTimeout
from imghash.web._batch_inputs import Item
from imghash.web._batch_run import FETCHES_AT_ONCE, _Turns, run_batch

T = TypeVar("T")
ID = "52fdfc07-2182-454f-963f-5f0f9a621d72"


class Busy:
    """Counts how many calls run at once, and the order they started in."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.started: list[Any] = []

    def enter(self, what: Any) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.started.append(what)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


def run(
    items: list[Item],
    *,
    fetch: Callable[[str, float], bytes] | None = None,
    hash_: Callable[[bytes], dict[str, object]] | None = None,
    settings: Settings | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[dict[str, Any]]:
    return in_a_loop_of_its_own(
        run_batch(
            items,
            fetch=fetch or (lambda url, seconds: url.encode()),
            hash_=hash_ or (lambda data: {"bytes": data.decode()}),
            settings=settings or Settings(),
            request_id=ID,
            clock=clock,
        )
    )


def in_a_loop_of_its_own(work: Coroutine[Any, Any, T]) -> T:
    """``work`` run in a loop closed after: asyncio.run would replace (and drop, unclosed)
    the current loop that Mangum sets for the handler tests."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        loop.close()


def test_each_item_in_its_place_with_its_id_or_error() -> None:
    items = [
        Item("a", data=b"one"),
        Item(url="http://x/two"),
        Item(7, error=UnsupportedImage("not an image")),
        Item(data=b"four"),
    ]
    assert run(items) == [
        {"index": 0, "id": "a", "data": {"bytes": "one"}},
        {"index": 1, "data": {"bytes": "http://x/two"}},
        {"index": 2, "id": 7, "error": {"code": "unsupported_image", "message": "not an image"}},
        {"index": 3, "data": {"bytes": "four"}},
    ]


def test_one_hash_at_a_time_and_a_few_fetches_at_a_time() -> None:
    fetching, hashing = Busy(), Busy()

    def fetch(url: str, seconds: float) -> bytes:
        fetching.enter(url)
        time.sleep(0.02)
        fetching.leave()
        return url.encode()

    def hash_(data: bytes) -> dict[str, object]:
        hashing.enter(data)
        time.sleep(0.002)
        hashing.leave()
        return {"bytes": data.decode()}

    items = [Item(url=f"http://x/{i}") for i in range(30)] + [Item(data=b"z")] * 5
    results = run(items, fetch=fetch, hash_=hash_)
    assert [r["data"]["bytes"] for r in results] == [f"http://x/{i}" for i in range(30)] + ["z"] * 5
    assert hashing.most == 1
    assert 1 <= fetching.most <= FETCHES_AT_ONCE
    assert len(fetching.started) == 30


def test_fetched_images_are_hashed_before_waiting_inline_ones() -> None:
    hashing = Busy()

    def hash_(data: bytes) -> dict[str, object]:
        hashing.enter(data.decode())
        if data == b"inline-0":
            time.sleep(0.3)  # long enough for the URL to be fetched meanwhile
        hashing.leave()
        return {}

    items = [Item(data=f"inline-{i}".encode()) for i in range(4)] + [Item(url="http://x/u")]
    run(items, hash_=hash_)
    assert hashing.started == ["inline-0", "http://x/u", "inline-1", "inline-2", "inline-3"]


def test_the_fetch_gets_what_is_left_of_the_batch_budget() -> None:
    asked: list[float] = []
    times = [100.0, 104.0]  # the batch starts at 100, the fetch at 104 (and after)

    def fetch(url: str, seconds: float) -> bytes:
        asked.append(seconds)
        return b"x"

    def clock() -> float:
        return times.pop(0) if len(times) > 1 else times[0]

    settings = Settings(batch_fetch_seconds=15)
    run([Item(url="http://x/a")], fetch=fetch, settings=settings, clock=clock)
    assert asked == [11.0]


def test_urls_whose_turn_comes_after_the_fetch_budget_are_not_fetched() -> None:
    fetched: list[str] = []

    def fetch(url: str, seconds: float) -> bytes:
        fetched.append(url)
        return b"x"

    items = [Item("u", url="http://x/a"), Item("i", data=b"inline")]
    results = run(items, fetch=fetch, settings=Settings(batch_fetch_seconds=0))
    assert fetched == []
    assert results[0]["error"] == {
        "code": "upstream_timeout",
        "message": "not fetched: the batch's 0 s for fetching URLs ran out before this URL's "
        "turn; send it again",
    }
    assert results[1]["data"] == {"bytes": "inline"}  # hashing has its own budget


def test_a_fetch_cut_by_the_batch_budget_says_so() -> None:
    now = [0.0]

    def fetch(url: str, seconds: float) -> bytes:
        now[0] += seconds  # the fetch used all it was given
        raise UpstreamTimeout(
            f"the server behind the URL did not send the image within {seconds} s"
        )

    results = run(
        [Item(url="http://x/a")],
        fetch=fetch,
        settings=Settings(batch_fetch_seconds=2),
        clock=lambda: now[0],
    )
    assert results[0]["error"] == {
        "code": "upstream_timeout",
        "message": "the server behind the URL had not sent the image when the batch's 2 s for "
        "fetching URLs ran out",
    }


def test_a_fetch_timing_out_on_its_own_keeps_its_message() -> None:
    def fetch(url: str, seconds: float) -> bytes:
        raise UpstreamTimeout("the server behind the URL did not accept a connection within 3 s")

    results = run([Item(url="http://x/a")], fetch=fetch, clock=lambda: 0.0)
    assert results[0]["error"]["message"].endswith("did not accept a connection within 3 s")


def test_items_whose_turn_comes_after_the_batch_seconds_are_not_hashed() -> None:
    hashed: list[bytes] = []

    def hash_(data: bytes) -> dict[str, object]:
        hashed.append(data)
        return {}

    items = [Item(data=b"a"), Item(url="http://x/b")]
    results = run(items, hash_=hash_, settings=Settings(batch_seconds=0))
    assert hashed == []
    for result in results:
        assert result["error"] == {
            "code": "overloaded",
            "message": "not hashed: the batch's 0 s ran out before this item's turn; send it "
            "again, or in a smaller batch",
        }


def test_a_bug_in_one_item_is_that_items_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    def hash_(data: bytes) -> dict[str, object]:
        if data == b"bad":
            raise RuntimeError("a bug, with secrets in its message")
        return {"ok": True}

    results = run([Item(data=b"good"), Item(data=b"bad"), Item(data=b"good")], hash_=hash_)
    assert [r.get("data") for r in results] == [{"ok": True}, None, {"ok": True}]
    assert results[1]["error"] == {
        "code": "internal_error",
        "message": f"internal error; quote request id {ID}",
    }
    assert "unhandled error in a batch item" in caplog.text


def test_a_cancelled_waiter_does_not_stop_the_turns() -> None:
    async def scenario() -> list[str]:
        turns, done = _Turns(), []
        release = asyncio.Event()

        async def take(name: str, hold: asyncio.Event | None = None) -> None:
            async with turns.turn(urgent=False):
                if hold is not None:
                    await hold.wait()
                done.append(name)

        first = asyncio.create_task(take("first", release))
        await asyncio.sleep(0)
        second = asyncio.create_task(take("second"))
        third = asyncio.create_task(take("third"))
        await asyncio.sleep(0)
        second.cancel()
        release.set()
        await asyncio.gather(first, third)
        with pytest.raises(asyncio.CancelledError):
            await second
        return done

    assert in_a_loop_of_its_own(scenario()) == ["first", "third"]
