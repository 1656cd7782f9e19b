"""Where the UI gets rankings: the engine in the same process, or a server over HTTP.

Either way, failures come back as RankingFailed with a message in plain words.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from rerankd.engine import RerankEngine
from rerankd.errors import RerankdError
from rerankd.ranking import RankRequest, RankResult


class RankingFailed(Exception):
    """A message for the person at the page."""


@dataclass(frozen=True)
class UIRanking:
    results: list[RankResult]
    prompt_tokens: int
    latency_s: float
    model: str


@dataclass(frozen=True)
class ModelBanner:
    model: str
    notice: str | None = None
    runs_on: str | None = None  # device and dtype, e.g. "cpu, float32"


class RankingClient(Protocol):
    async def rank(self, request: RankRequest) -> UIRanking: ...
    async def banner(self) -> ModelBanner: ...


class EngineClient:
    """The engine of the server this UI is mounted in."""

    def __init__(self, engine: RerankEngine, model_name: str, notice: str | None) -> None:
        self.engine = engine
        self.model_name = model_name
        self.notice = notice

    async def rank(self, request: RankRequest) -> UIRanking:
        started = time.perf_counter()
        try:
            ranking = await self.engine.rank(request)
        except RerankdError as error:
            raise RankingFailed(str(error)) from None
        return UIRanking(
            ranking.results, ranking.prompt_tokens, time.perf_counter() - started,
            self.model_name,
        )

    async def banner(self) -> ModelBanner:
        info = self.engine.backend.info
        return ModelBanner(self.model_name, self.notice, f"{info.device}, {info.dtype}")


class HttpClient:
    """A rerankd server elsewhere, through its /v2/rerank API."""

    def __init__(self, url: str, api_key: str | None = None, timeout_s: float = 600) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout_s = timeout_s

    async def rank(self, request: RankRequest) -> UIRanking:
        body: dict[str, Any] = {
            "query": request.query, "documents": list(request.documents),
            "top_n": request.top_n, "return_documents": True, **request.options.given(),
        }
        started = time.perf_counter()
        reply = await self._post("/v2/rerank", body)
        latency = time.perf_counter() - started
        results = [
            RankResult(
                item["index"], item["relevance_score"], item["document"]["text"],
                bool(item.get("truncated", False)),
                (item["passage"]["start"], item["passage"]["end"]) if "passage" in item else None,
            )
            for item in reply["results"]
        ]
        return UIRanking(results, reply["meta"]["tokens"]["input_tokens"], latency,
                         reply.get("model", ""))

    async def banner(self) -> ModelBanner:
        import httpx

        try:
            async with httpx.AsyncClient(timeout=10) as client:
                health = (await client.get(self.url + "/health")).json()
        except (httpx.HTTPError, ValueError):
            return ModelBanner("unknown", f"cannot reach the rerankd server at {self.url}")
        runs_on = ", ".join(str(health[key]) for key in ("device", "dtype") if key in health)
        return ModelBanner(str(health.get("model", "unknown")), health.get("notice"),
                           runs_on or None)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, headers=self.headers) as client:
                reply = await client.post(self.url + path, json=body)
        except httpx.TimeoutException:
            raise RankingFailed(f"The server at {self.url} did not answer in time.") from None
        except httpx.HTTPError:
            raise RankingFailed(
                f"Cannot reach the rerankd server at {self.url}. Is it running? "
                f"无法连接到服务器。"
            ) from None
        if reply.status_code == 200:
            result: dict[str, Any] = reply.json()
            return result
        raise RankingFailed(_plain_words(reply.status_code, _server_message(reply)))


def _server_message(reply: Any) -> str:
    try:
        body = reply.json()
    except ValueError:
        return reply.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(body)


def _plain_words(status: int, message: str) -> str:
    if status == 401:
        return ("The server needs an API key, or refused this one (401). Start the UI with "
                "--api-key KEY. 服务器拒绝了 API 密钥。")
    if status == 413:
        return f"Too much text for the server in one request (413): {message}"
    if status == 422:
        return f"The server could not use this input: {message}"
    if status in (503, 504):
        return f"The server is busy, loading or timed out ({status}): {message} Try again."
    return f"The server answered {status}: {message}"
