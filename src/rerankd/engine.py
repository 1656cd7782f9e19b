"""The async engine facade the server and the UI talk to: validation, cache, batching.

It owns one backend, the prompt template, the score cache and the batch scheduler. Every
API dialect turns its request into a RankRequest and calls ``rank`` or ``score``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from rerankd.backends import ScoringBackend
from rerankd.batching import BatchScheduler
from rerankd.cache import ScoreCache, cache_key
from rerankd.config import Settings
from rerankd.errors import InputTooLongError, TooManyDocumentsError
from rerankd.ranking import DocumentScore, RankRequest, RankResult, order_results
from rerankd.template import DEFAULT_INSTRUCTION


class EngineObserver(Protocol):
    """Where the engine reports what it did (the server's metrics)."""

    def cache_lookups(self, hits: int, misses: int) -> None: ...
    def batch_scored(self, pairs: int, tokens: int) -> None: ...


class _NoObserver:
    def cache_lookups(self, hits: int, misses: int) -> None:
        pass

    def batch_scored(self, pairs: int, tokens: int) -> None:
        pass


@dataclass(frozen=True)
class Ranking:
    """Results best first, with what the request cost."""

    results: list[RankResult]
    prompt_tokens: int
    cache_hits: int

    @property
    def truncated_indices(self) -> list[int]:
        return sorted(result.index for result in self.results if result.truncated)


class RerankEngine:
    def __init__(
        self,
        backend: ScoringBackend,
        settings: Settings,
        observer: EngineObserver | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self.template = backend.prompt_builder(settings.max_length)
        self.cache = ScoreCache(settings.cache_size)
        self.observer = observer or _NoObserver()
        self.scheduler = BatchScheduler(
            backend.score_prompts,
            max_batch_tokens=max(settings.max_batch_tokens, self.template.max_length),
            max_batch_size=settings.max_batch_size,
            max_wait_s=settings.batch_wait_ms / 1000,
            max_queue_pairs=settings.max_queue_pairs,
            on_batch=self.observer.batch_scored,
        )

    @property
    def model_name(self) -> str:
        return self.settings.model_name

    async def start(self, warm_up: bool = True) -> None:
        """Start the batch worker; the warm-up runs the model once so the first request
        does not pay for lazy initialisation."""
        self.scheduler.start()
        if warm_up:
            prompts = self.template.build("warm-up", ["rerankd is ready"])
            await self.scheduler.score(prompts)

    async def stop(self) -> None:
        await self.scheduler.stop()

    async def rank(self, request: RankRequest) -> Ranking:
        """Documents best first (top_n applied), scored or taken from the cache."""
        scores, hits = await self._score(request)
        return Ranking(
            results=order_results(request.documents, scores, request.top_n),
            prompt_tokens=sum(scored.prompt_tokens for scored in scores),
            cache_hits=hits,
        )

    async def score(self, request: RankRequest) -> list[DocumentScore]:
        """Scores in the documents' order (no sorting, no top_n)."""
        scores, _ = await self._score(request)
        return scores

    async def _score(self, request: RankRequest) -> tuple[list[DocumentScore], int]:
        request = request.validated()
        if len(request.documents) > self.settings.max_documents:
            raise TooManyDocumentsError(
                f"{len(request.documents)} documents in one request; this server allows at "
                f"most {self.settings.max_documents} (--max-documents)"
            )
        keys = [self._cache_key(request, document) for document in request.documents]
        found: dict[bytes, DocumentScore] = {}
        for key in keys:
            entry = self.cache.get(key)
            if entry is not None:
                found[key] = entry
        hits = sum(1 for key in keys if key in found)
        if request.on_overflow == "error":
            for index, key in enumerate(keys):
                if key in found and found[key].truncated:
                    raise InputTooLongError(f"document {index} exceeds its token budget")
        # Each distinct missing document is scored once, even if sent twice.
        missing = list(dict.fromkeys(key for key in keys if key not in found))
        self.observer.cache_lookups(hits, len(keys) - hits)
        if missing:
            document_by_key = dict(zip(keys, request.documents, strict=True))
            prompts = await asyncio.to_thread(
                self.template.build,
                request.query,
                [document_by_key[key] for key in missing],
                request.instruction,
                max_length=request.max_length,
                max_document_tokens=request.max_tokens_per_doc,
                on_overflow=request.on_overflow,
            )
            scores = await self.scheduler.score(prompts)
            for key, prompt, score in zip(missing, prompts, scores, strict=True):
                entry = DocumentScore(score, len(prompt), prompt.truncated)
                found[key] = entry
                self.cache.put(key, entry)
        return [found[key] for key in keys], hits

    def _cache_key(self, request: RankRequest, document: str) -> bytes:
        info = self.backend.info
        max_length = min(request.max_length or self.template.max_length, self.template.max_length)
        return cache_key(
            info.model_id, info.revision, self.template.version,
            request.instruction or DEFAULT_INSTRUCTION, max_length, request.max_tokens_per_doc,
            request.query, document,
        )
