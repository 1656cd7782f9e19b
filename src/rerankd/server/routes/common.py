"""What every route needs: the ready engine, and running its work under a timeout that
stops when the client goes away."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

from fastapi import Request

from rerankd.engine import RerankEngine
from rerankd.errors import RequestTimeoutError
from rerankd.ranking import DocumentScore, PairRequest, Ranking, RankRequest
from rerankd.server.errors import ClientGoneError, NotReadyError

T = TypeVar("T")


def ready_engine(request: Request) -> RerankEngine:
    """The engine, once the model is loaded and warmed up."""
    state = request.app.state
    if not state.ready.is_set():
        raise NotReadyError("the model is loading; retry shortly")
    engine: RerankEngine = state.engine
    return engine


async def rank(request: Request, rank_request: RankRequest) -> Ranking:
    return await run_request(request, ready_engine(request).rank(rank_request))


async def score(request: Request, pair_request: PairRequest) -> list[DocumentScore]:
    return await run_request(request, ready_engine(request).score(pair_request))


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


async def run_request(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """Await ``work``; cancel it when the client disconnects or the timeout passes."""
    timeout_s = request.app.state.settings.server.request_timeout
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait(
            {task, watcher}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:
            return task.result()
        if watcher in done:
            raise ClientGoneError("the client disconnected")
        raise RequestTimeoutError(
            f"the request took longer than {timeout_s:g} s (--request-timeout)"
        )
    finally:
        for pending in (task, watcher):
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone (the body is already read by then)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
