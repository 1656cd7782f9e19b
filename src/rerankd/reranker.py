"""The library facade: ``Reranker(model).rank(query, documents)``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rerankd.backends import ScoringBackend, load_backend
from rerankd.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS, plan_batches
from rerankd.loading import DEFAULT_MODEL, Hub, resolve_model
from rerankd.prompts import OnOverflow, Prompt
from rerankd.ranking import (
    DEFAULT_MAX_CHUNKS,
    ChunkAggregate,
    LongDocs,
    RankRequest,
    RankResult,
    group_by_query,
    order_results,
    score_documents,
)
from rerankd.template import DEFAULT_MAX_LENGTH


class Reranker:
    """Scores (query, document) pairs with a Qwen3-Reranker model, in process.

    >>> reranker = Reranker("Qwen/Qwen3-Reranker-0.6B")
    >>> reranker.rank("what is rerankd?", ["a reranking service", "a cake recipe"])
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str | None = None,
        dtype: str | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        hub: Hub = "huggingface",
        revision: str | None = None,
        backend: str = "transformers",
        quantize: str | None = None,
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    ) -> None:
        source = resolve_model(model, hub=hub, revision=revision)
        engine = load_backend(
            source, backend=backend, device=device, dtype=dtype, quantize=quantize
        )
        self._setup(engine, max_length, max_batch_tokens, max_batch_size)

    @classmethod
    def from_backend(
        cls,
        engine: ScoringBackend,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    ) -> Reranker:
        """Wrap an engine that is already loaded (the server shares one this way)."""
        reranker = cls.__new__(cls)
        reranker._setup(engine, max_length, max_batch_tokens, max_batch_size)
        return reranker

    def _setup(
        self, engine: ScoringBackend, max_length: int, max_batch_tokens: int, max_batch_size: int
    ) -> None:
        self.backend = engine
        self.template = engine.prompt_builder(max_length)
        self.max_batch_tokens = max(max_batch_tokens, max_length)
        self.max_batch_size = max_batch_size

    @property
    def max_length(self) -> int:
        return self.template.max_length

    def rank(
        self,
        query: str,
        documents: Sequence[str],
        instruction: str | None = None,
        top_n: int | None = None,
        *,
        max_tokens_per_doc: int | None = None,
        max_tokens_per_query: int | None = None,
        on_overflow: OnOverflow = "truncate",
        long_docs: LongDocs | None = None,
        max_chunks_per_doc: int | None = None,
        chunk_aggregate: ChunkAggregate = "max",
        progress: bool = False,
    ) -> list[RankResult]:
        """Documents best first, with their original index and relevance score.

        A document over its budget is cut at its tail; with ``long_docs="chunk"`` (or a
        ``max_chunks_per_doc``) it is split into overlapping windows instead, scored by
        its best window (or the mean of its best two), whose characters come back as
        ``passage``.
        """
        request = RankRequest(
            query, documents, instruction, top_n,
            max_tokens_per_doc=max_tokens_per_doc, max_tokens_per_query=max_tokens_per_query,
            on_overflow=on_overflow, long_docs=long_docs, max_chunks_per_doc=max_chunks_per_doc,
            chunk_aggregate=chunk_aggregate,
        ).validated()
        prompts = self.template.build(
            request.query, request.documents, request.instruction,
            max_document_tokens=request.max_tokens_per_doc,
            max_query_tokens=request.max_tokens_per_query,
            on_overflow=request.on_overflow,
            chunking=request.chunking("truncate", DEFAULT_MAX_CHUNKS),
        )
        scores = self.score_prompts(prompts, progress=progress)
        scored = score_documents(prompts, scores, len(request.documents), chunk_aggregate)
        return order_results(request.documents, scored, request.top_n)

    def score(
        self,
        pairs: Iterable[tuple[str, str]],
        instruction: str | None = None,
        *,
        progress: bool = False,
    ) -> list[float]:
        """P("yes") for each (query, document) pair, in order."""
        pairs = list(pairs)
        prompts: dict[int, Prompt] = {}
        for query, positions in group_by_query(pairs).items():
            request = RankRequest(query, [pairs[p][1] for p in positions], instruction).validated()
            built = self.template.build(query, request.documents, instruction)
            prompts.update(zip(positions, built, strict=True))
        return self.score_prompts([prompts[p] for p in range(len(pairs))], progress=progress)

    def score_prompts(self, prompts: Sequence[Prompt], *, progress: bool = False) -> list[float]:
        """Scores for finished prompts, batched by length under the token budget."""
        scores = [0.0] * len(prompts)
        batches = plan_batches(
            [len(prompt) for prompt in prompts], self.max_batch_tokens, self.max_batch_size
        )
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(prompts), unit="pair", desc="scoring", leave=False)
        try:
            for batch in batches:
                batch_scores = self.backend.score_prompts([prompts[index] for index in batch])
                for index, score in zip(batch, batch_scores, strict=True):
                    scores[index] = score
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
        return scores
