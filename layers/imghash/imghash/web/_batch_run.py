"""Running a batch: each item's outcome in its place, within the batch's time and memory.

- URLs are fetched a few at a time (:data:`FETCHES_AT_ONCE`), while there is time left
  of the batch's fetch budget; each fetch is cut to what is left of it, and a URL whose
  turn comes after it is spent is not fetched at all (``upstream_timeout``).
- Images are hashed one at a time: hashing is CPU-bound, a Lambda function of 1,769 MB
  has one vCPU, and one decoded image at a time bounds the memory. Fetched images go
  first, as each holds a fetch place and its bytes until it is hashed. An item whose
  turn comes after the batch's own seconds are spent is not hashed (``overloaded``: send
  it again), so that the answer leaves before API Gateway's 29 s.
- One item's failure is that item's error, in the envelope's ``{"code", "message"}``:
  the code and message ``/v1/hash`` would give for it. A bug is an ``internal_error``
  of its item alone, logged with the request id.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool

from .._errors import ImghashError, Overloaded, UpstreamTimeout
from .._settings import Settings
from ._batch_inputs import Item
from ._envelope import internal_error_message

__all__ = ["FETCHES_AT_ONCE", "Clock", "Fetch", "Hash", "run_batch"]

#: URLs of one batch fetched at once. Each holds at most the byte limit until it is
#: hashed: 8 x 4 MB in AWS.
FETCHES_AT_ONCE = 8

#: Blocking calls the runner makes in worker threads: a URL and the seconds it may take
#: to its bytes; bytes to the item's data.
Fetch = Callable[[str, float], bytes]
Hash = Callable[[bytes], dict[str, object]]
Clock = Callable[[], float]

log = logging.getLogger("imghash.access")


class _Turns:
    """One at a time, the urgent first, then in order of asking."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def turn(self, *, urgent: bool) -> AsyncIterator[None]:
        if self._busy:
            handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (0 if urgent else 1, next(self._order), handed))
            try:
                await handed
            except asyncio.CancelledError:
                if handed.done() and not handed.cancelled():  # handed the turn as we left
                    self._pass()
                raise
        self._busy = True
        try:
            yield
        finally:
            self._pass()

    def _pass(self) -> None:
        while self._waiting:
            _, _, handed = heapq.heappop(self._waiting)
            if not handed.done():  # else its waiter was cancelled
                handed.set_result(None)
                return
        self._busy = False


class _Run:
    def __init__(
        self, fetch: Fetch, hash_: Hash, settings: Settings, request_id: str, clock: Clock
    ) -> None:
        self.fetch, self.hash, self.settings = fetch, hash_, settings
        self.request_id, self.clock = request_id, clock
        started = clock()
        self.fetch_end = started + settings.batch_fetch_seconds
        self.hash_end = started + settings.batch_seconds
        self.fetching = asyncio.Semaphore(FETCHES_AT_ONCE)
        self.hashing = _Turns()

    async def outcome(self, index: int, item: Item) -> dict[str, Any]:
        said: dict[str, Any] = {"index": index}
        if item.id is not None:
            said["id"] = item.id
        try:
            if item.error is not None:
                raise item.error
            if item.url is not None:
                data = await self._fetched_and_hashed(item.url)
            else:
                data = await self._hashed(item.data or b"", urgent=False)
        except ImghashError as err:
            return {**said, "error": err.to_dict()}
        except Exception:  # a bug: this item's error, not the batch's
            log.exception("unhandled error in a batch item", extra={"request_id": self.request_id})
            bug = {"code": "internal_error", "message": internal_error_message(self.request_id)}
            return {**said, "error": bug}
        return {**said, "data": data}

    async def _fetched_and_hashed(self, url: str) -> dict[str, object]:
        async with self.fetching:
            left = self.fetch_end - self.clock()
            if left <= 0:
                raise UpstreamTimeout(
                    f"not fetched: the batch's {self.settings.batch_fetch_seconds:g} s for "
                    "fetching URLs ran out before this URL's turn; send it again"
                )
            try:
                data = await run_in_threadpool(self.fetch, url, left)
            except UpstreamTimeout:
                if self.clock() < self.fetch_end:
                    raise  # its own time ran out, not the batch's
                raise UpstreamTimeout(
                    "the server behind the URL had not sent the image when the batch's "
                    f"{self.settings.batch_fetch_seconds:g} s for fetching URLs ran out"
                ) from None
            return await self._hashed(data, urgent=True)

    async def _hashed(self, data: bytes, *, urgent: bool) -> dict[str, object]:
        async with self.hashing.turn(urgent=urgent):
            if self.clock() >= self.hash_end:
                raise Overloaded(
                    f"not hashed: the batch's {self.settings.batch_seconds:g} s ran out before "
                    "this item's turn; send it again, or in a smaller batch"
                )
            return await run_in_threadpool(self.hash, data)


async def run_batch(
    items: Sequence[Item],
    *,
    fetch: Fetch,
    hash_: Hash,
    settings: Settings,
    request_id: str,
    clock: Clock = time.monotonic,
) -> list[dict[str, Any]]:
    """Each item's ``{"index", "id", "data"}``, or its ``error`` instead of ``data``, in order;
    ``id`` only when the item has one.

    The batch's budgets (``settings.batch_fetch_seconds``, ``settings.batch_seconds``)
    count from this call.
    """
    run = _Run(fetch, hash_, settings, request_id, clock)
    return list(await asyncio.gather(*(run.outcome(i, item) for i, item in enumerate(items))))
