"""Getting prompts to the model across concurrent requests.

``plan_batches`` groups prompts, length-sorted, under a budget of padded tokens;
``BatchScheduler`` batches across requests for engines that take one batch at a time;
``DirectScheduler`` hands each request to an engine that batches continuously (vLLM).
Both bound the pairs in flight and report what they ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from rerankd.errors import BackendError, OverloadedError, TooManyDocumentsError
from rerankd.prompts import Prompt

logger = logging.getLogger(__name__)

MAX_PADDING_FRACTION = 0.25
PADDING_ALLOWANCE = 64  # padding per row that is never worth a batch of its own


def plan_batches(
    lengths: Sequence[int], max_batch_tokens: int, max_batch_size: int | None = None
) -> list[list[int]]:
    """Split item indices into batches whose padded size (rows x longest) fits the budget.

    Items are sorted longest first, so neighbours have similar lengths and the largest
    batch runs first. A batch also closes before a row that would be more than a quarter
    padding (beyond a small allowance): compute spent on padding is pure waste, and a few
    more rows buy little. An item longer than the budget runs alone.
    """
    order = sorted(range(len(lengths)), key=lambda index: -lengths[index])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current:
            longest = lengths[current[0]]
            row_padding = longest - lengths[index]
            if (
                (max_batch_size is not None and len(current) >= max_batch_size)
                or (len(current) + 1) * longest > max_batch_tokens
                or row_padding > max(MAX_PADDING_FRACTION * longest, PADDING_ALLOWANCE)
            ):
                batches.append(current)
                current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


BatchScorer = Callable[[Sequence[Prompt]], list[float]]


class Progress(Protocol):
    """A progress bar (tqdm's interface): ``total`` prompts, ``update(n)`` as they are scored."""

    total: float | None

    def update(self, n: int = 1) -> object: ...


def admit(waiting: int, prompts: int, max_queue_pairs: int) -> None:
    """Refuse work that can never fit the queue (422: retrying cannot help), and work that
    does not fit now (503 + Retry-After)."""
    if prompts > max_queue_pairs:
        raise TooManyDocumentsError(
            f"this request needs {prompts} model passes (documents, or their chunks); the "
            f"server queues at most {max_queue_pairs} (--max-queue-pairs): send fewer or "
            "shorter documents per request"
        )
    if waiting + prompts > max_queue_pairs:
        raise OverloadedError(
            f"the queue is full ({waiting} prompts waiting, {prompts} more asked, limit "
            f"{max_queue_pairs}); retry shortly"
        )


@dataclass(eq=False, slots=True)
class _Work:
    prompt: Prompt
    future: asyncio.Future[float]


class BatchScheduler:
    """Dynamic batching across concurrent requests.

    Requests put their prompts in one queue and await a future per prompt. A worker
    takes the oldest pending prompt together with pending prompts of similar length,
    under the padded-token budget, and runs the model in a thread off the event loop;
    while it runs, new requests queue up for the next batch. A failing batch fails only
    its own futures, and prompts whose request went away are skipped.
    """

    def __init__(
        self,
        score_batch: BatchScorer,
        *,
        max_batch_tokens: int,
        max_batch_size: int,
        max_wait_s: float,
        max_queue_pairs: int,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> None:
        self._score_batch = score_batch
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.max_queue_pairs = max_queue_pairs
        self._on_batch = on_batch
        self._pending: list[_Work] = []
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rerankd-model")
        self._worker: asyncio.Task[None] | None = None

    @property
    def queue_depth(self) -> int:
        """Prompts waiting for the model (abandoned ones not counted)."""
        return sum(1 for work in self._pending if not work.future.done())

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the worker; whatever is still queued fails with a clear error."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for work in self._pending:
            if not work.future.done():
                work.future.set_exception(OverloadedError("the server is shutting down"))
        self._pending.clear()
        self._executor.shutdown(wait=True)

    async def score_prompts(
        self, prompts: Sequence[Prompt], progress: Progress | None = None
    ) -> list[float]:
        """Scores for ``prompts``, batched with whatever else is waiting."""
        if not prompts:
            return []
        if self._worker is None:
            raise OverloadedError("the scoring engine is not running")
        admit(self.queue_depth, len(prompts), self.max_queue_pairs)
        loop = asyncio.get_running_loop()
        work = [_Work(prompt, loop.create_future()) for prompt in prompts]
        if progress is not None:
            for item in work:
                item.future.add_done_callback(lambda _: progress.update(1))
        self._pending.extend(work)
        self._wakeup.set()
        try:
            return list(await asyncio.gather(*(item.future for item in work)))
        finally:
            # On error or cancellation (client gone, timeout) the rest is not wanted.
            for item in work:
                item.future.cancel()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            if self.max_wait_s > 0 and self._pending_tokens() < self.max_batch_tokens:
                # A short window, so that requests arriving together share a batch.
                await asyncio.sleep(self.max_wait_s)
            batch = self._take_batch()
            if not batch:
                self._wakeup.clear()
                continue
            prompts = [work.prompt for work in batch]
            try:
                scores = await loop.run_in_executor(self._executor, self._score_batch, prompts)
            except Exception as exc:
                logger.exception("a batch of %d prompts failed", len(batch))
                # Clients see a generic 500 (server/errors.py); logs and the warm-up see why.
                error = BackendError(f"the model failed on a batch: {type(exc).__name__}: {exc}")
                for work in batch:
                    if not work.future.done():
                        work.future.set_exception(error)
                continue
            if self._on_batch is not None:
                self._on_batch(len(batch), sum(len(prompt) for prompt in prompts))
            for work, score in zip(batch, scores, strict=True):
                if not work.future.done():
                    work.future.set_result(score)

    def _pending_tokens(self) -> int:
        return sum(len(work.prompt) for work in self._pending)

    def _take_batch(self) -> list[_Work]:
        """The oldest pending prompt and its length-neighbours among the next ones."""
        self._pending = [work for work in self._pending if not work.future.done()]
        window: list[_Work] = []
        window_tokens = 0
        for work in self._pending:
            if window and window_tokens + len(work.prompt) > 4 * self.max_batch_tokens:
                break
            window.append(work)
            window_tokens += len(work.prompt)
        if not window:
            return []
        batches = plan_batches(
            [len(work.prompt) for work in window], self.max_batch_tokens, self.max_batch_size
        )
        chosen = next(batch for batch in batches if 0 in batch)
        taken = {id(window[index]) for index in chosen}
        self._pending = [work for work in self._pending if id(work) not in taken]
        return [window[index] for index in chosen]


AsyncScorer = Callable[[Sequence[Prompt]], Awaitable[list[float]]]


class DirectScheduler:
    """For engines that batch across requests themselves (vLLM's continuous batching):
    each request's prompts go to the engine at once, with the same admission limit,
    error mapping and reporting as ``BatchScheduler``. A request that goes away is
    cancelled, and the engine drops its prompts."""

    def __init__(
        self,
        score: AsyncScorer,
        *,
        max_queue_pairs: int,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> None:
        self._score = score
        self.max_queue_pairs = max_queue_pairs
        self._on_batch = on_batch
        self._in_flight = 0
        self._running = False

    @property
    def queue_depth(self) -> int:
        """Prompts handed to the engine and not yet scored."""
        return self._in_flight

    def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False

    async def score_prompts(
        self, prompts: Sequence[Prompt], progress: Progress | None = None
    ) -> list[float]:
        if not prompts:
            return []
        if not self._running:
            raise OverloadedError("the scoring engine is not running")
        admit(self._in_flight, len(prompts), self.max_queue_pairs)
        self._in_flight += len(prompts)
        try:
            scores = await self._score(prompts)
        except OverloadedError:
            raise
        except Exception as exc:
            logger.exception("scoring %d prompts failed", len(prompts))
            raise BackendError(
                f"the model failed on a request: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            self._in_flight -= len(prompts)
        if self._on_batch is not None:
            self._on_batch(len(prompts), sum(len(prompt) for prompt in prompts))
        if progress is not None:
            progress.update(len(prompts))
        return scores
