"""The one ranking pipeline, shared by the server, the UI and the library.

validate -> resolve the options -> look up the cache -> build the prompts of what is
missing -> schedule them on the backend -> one score per document -> store -> order.

It owns one backend, its prompt builder, the score cache and the scheduler. Every API
dialect and the library hand it a RankRequest (or, for /score, a PairRequest).
"""

from __future__ import annotations

import asyncio
from dataclasses import astuple
from typing import Protocol

from rerankd.backends import ContinuousBatchingBackend, ScoringBackend
from rerankd.batching import BatchScheduler, DirectScheduler, Progress
from rerankd.cache import cache_key, make_score_cache
from rerankd.config import EngineConfig
from rerankd.errors import TooManyDocumentsError
from rerankd.options import RankOptions
from rerankd.prompts import Prompt
from rerankd.ranking import (
    DocumentScore,
    PairRequest,
    Ranking,
    RankRequest,
    document_scores,
    order_results,
)


class EngineObserver(Protocol):
    """Where the engine reports what it did (the server's metrics)."""

    def cache_lookups(self, hits: int, misses: int) -> None: ...
    def batch_scored(self, pairs: int, tokens: int) -> None: ...


class _NoObserver:
    def cache_lookups(self, hits: int, misses: int) -> None:
        pass

    def batch_scored(self, pairs: int, tokens: int) -> None:
        pass


class RerankEngine:
    def __init__(
        self, backend: ScoringBackend, config: EngineConfig,
        observer: EngineObserver | None = None,
    ) -> None:
        self.backend = backend
        self.config = config
        self.prompt_builder = backend.prompt_builder(config.max_length)
        self.defaults = config.rank_defaults(self.prompt_builder.max_length)
        self.cache = make_score_cache(config.cache_url, config.cache_size)
        self.observer = observer or _NoObserver()
        self.scheduler: BatchScheduler | DirectScheduler
        if isinstance(backend, ContinuousBatchingBackend):
            self.scheduler = DirectScheduler(
                backend.score_prompts_async, max_queue_pairs=config.max_queue_pairs,
                on_batch=self.observer.batch_scored,
            )
        else:
            self.scheduler = BatchScheduler(
                backend.score_prompts,
                max_batch_tokens=max(config.max_batch_tokens, self.prompt_builder.max_length),
                max_batch_size=config.max_batch_size,
                max_wait_s=config.batch_wait_ms / 1000,
                max_queue_pairs=config.max_queue_pairs,
                on_batch=self.observer.batch_scored,
            )

    async def start(self, warm_up: bool = True) -> None:
        """Start the scheduler; the warm-up runs the model once so the first request does
        not pay for lazy initialisation."""
        self.scheduler.start()
        if warm_up:
            await self.scheduler.score_prompts(
                self.prompt_builder.build("warm-up", ["rerankd is ready"])
            )

    async def stop(self) -> None:
        await self.scheduler.stop()

    async def rank(self, request: RankRequest, progress: Progress | None = None) -> Ranking:
        """Documents best first (top_n applied), scored or taken from the cache."""
        request = request.validated()
        self._check_count(len(request.documents), "documents")
        scores, hits = await self._score_pairs(
            [(request.query, document) for document in request.documents],
            request.options, progress,
        )
        return Ranking(
            results=order_results(request.documents, scores, request.top_n),
            prompt_tokens=sum(scored.prompt_tokens for scored in scores),
            cache_hits=hits,
        )

    async def score(
        self, request: PairRequest, progress: Progress | None = None
    ) -> list[DocumentScore]:
        """Scores of (query, document) pairs, in their order."""
        request = request.validated()
        self._check_count(len(request.pairs), "pairs")
        scores, _ = await self._score_pairs(list(request.pairs), request.options, progress)
        return scores

    def _check_count(self, count: int, what: str) -> None:
        if count > self.config.max_documents:
            raise TooManyDocumentsError(
                f"{count} {what} in one request; this server allows at most "
                f"{self.config.max_documents} (--max-documents)"
            )

    async def _score_pairs(
        self, pairs: list[tuple[str, str]], options: RankOptions, progress: Progress | None
    ) -> tuple[list[DocumentScore], int]:
        options = options.resolve(self.defaults)
        keys = [self._cache_key(options, query, document) for query, document in pairs]
        found = await self.cache.get_many(keys)
        hits = sum(1 for key in keys if key in found)
        self.observer.cache_lookups(hits, len(keys) - hits)
        # Each distinct missing pair is scored once, even if sent twice.
        pair_by_key = dict(zip(keys, pairs, strict=True))
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            scored = await self._score_missing([pair_by_key[key] for key in missing], options,
                                               progress)
            by_key = dict(zip(missing, scored, strict=True))
            found.update(by_key)
            await self.cache.put_many(by_key)
        return [found[key] for key in keys], hits

    async def _score_missing(
        self, pairs: list[tuple[str, str]], options: RankOptions, progress: Progress | None
    ) -> list[DocumentScore]:
        """Each query's documents share one prompt prefix, however the pairs were ordered;
        the prompts of all queries go to the scheduler together."""
        groups: dict[str, list[int]] = {}
        for position, (query, _) in enumerate(pairs):
            groups.setdefault(query, []).append(position)
        built = await asyncio.to_thread(self._build, pairs, groups, options)
        every_prompt = [prompt for prompts in built for prompt in prompts]
        if progress is not None:
            progress.total = len(every_prompt)
        scores = await self.scheduler.score_prompts(every_prompt, progress)
        results: list[DocumentScore | None] = [None] * len(pairs)
        start = 0
        for positions, prompts in zip(groups.values(), built, strict=True):
            group_scores = scores[start : start + len(prompts)]
            start += len(prompts)
            for position, scored in zip(
                positions, document_scores(prompts, group_scores, len(positions), options),
                strict=True,
            ):
                results[position] = scored
        return [result for result in results if result is not None]

    def _build(
        self, pairs: list[tuple[str, str]], groups: dict[str, list[int]], options: RankOptions
    ) -> list[list[Prompt]]:
        return [
            self.prompt_builder.build(query, [pairs[p][1] for p in positions], options)
            for query, positions in groups.items()
        ]

    def _cache_key(self, options: RankOptions, query: str, document: str) -> bytes:
        """Everything that decides a pair's score: model, prompt format and options."""
        info = self.backend.info
        return cache_key(
            info.model_id, info.revision, info.dtype, self.prompt_builder.version,
            *astuple(options), query, document,
        )
