"""The async engine facade the server and the UI talk to: validation, cache, batching.

It owns one backend, the prompt template, the score cache and the batch scheduler. Every
API dialect turns its request into a RankRequest and calls ``rank`` or ``score``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from rerankd.backends import ContinuousBatchingBackend, ScoringBackend
from rerankd.batching import BatchScheduler, DirectScheduler
from rerankd.cache import cache_key, make_score_cache
from rerankd.config import Settings
from rerankd.errors import TooManyDocumentsError
from rerankd.ranking import (
    DocumentScore,
    RankRequest,
    RankResult,
    order_results,
    score_documents,
)
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
        self.cache = make_score_cache(settings.cache_url, settings.cache_size)
        self.observer = observer or _NoObserver()
        self.scheduler: BatchScheduler | DirectScheduler
        if isinstance(backend, ContinuousBatchingBackend):
            self.scheduler = DirectScheduler(
                backend.score_prompts_async,
                max_queue_pairs=settings.max_queue_pairs,
                on_batch=self.observer.batch_scored,
            )
        else:
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
        settings = self.settings
        chunking = request.chunking(settings.long_docs, settings.max_chunks_per_doc)
        aggregate = request.chunk_aggregate or settings.chunk_aggregate
        max_document_tokens = request.max_tokens_per_doc or settings.max_tokens_per_doc
        max_query_tokens = request.max_tokens_per_query or settings.max_tokens_per_query
        options = (
            min(request.max_length or self.template.max_length, self.template.max_length),
            max_document_tokens, max_query_tokens, request.on_overflow,
            chunking.max_chunks if chunking else None, aggregate if chunking else None,
        )
        keys = [self._cache_key(request, options, document) for document in request.documents]
        found = await self.cache.get_many(keys)
        hits = sum(1 for key in keys if key in found)
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
                max_document_tokens=max_document_tokens,
                max_query_tokens=max_query_tokens,
                on_overflow=request.on_overflow,
                chunking=chunking,
            )
            scores = await self.scheduler.score(prompts)
            scored = dict(zip(missing, score_documents(prompts, scores, len(missing), aggregate),
                              strict=True))
            found.update(scored)
            await self.cache.put_many(scored)
        return [found[key] for key in keys], hits

    def _cache_key(
        self, request: RankRequest, options: tuple[object, ...], document: str
    ) -> bytes:
        """Everything that decides a document's score: model, prompt format and options."""
        info = self.backend.info
        return cache_key(
            info.model_id, info.revision, self.template.version,
            request.instruction or DEFAULT_INSTRUCTION, *map(str, options),
            request.query, document,
        )
