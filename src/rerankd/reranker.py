"""The library facade: ``Reranker(model).rank(query, documents)``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rerankd.backends import ScoringBackend, load_backend
from rerankd.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS, plan_batches
from rerankd.errors import InvalidInputError
from rerankd.loading import DEFAULT_MODEL, Hub, resolve_model
from rerankd.template import DEFAULT_MAX_LENGTH, Prompt, Qwen3RerankerTemplate

OnOverflow = Literal["truncate", "error"]


@dataclass(frozen=True, slots=True)
class RankResult:
    """One document's place in a ranking."""

    index: int
    relevance_score: float
    document: str
    truncated: bool = False


def validate_query(query: object) -> str:
    if not isinstance(query, str):
        raise InvalidInputError(f"query must be a string, got {type(query).__name__}")
    if not query.strip():
        raise InvalidInputError("query must not be empty")
    return query


def validate_documents(documents: object) -> list[str]:
    if isinstance(documents, str) or not isinstance(documents, Sequence):
        raise InvalidInputError("documents must be a list of strings")
    for index, document in enumerate(documents):
        if not isinstance(document, str):
            raise InvalidInputError(
                f"documents[{index}] must be a string, got {type(document).__name__}"
            )
    return list(documents)


def validate_top_n(top_n: int | None) -> int | None:
    if top_n is not None and (not isinstance(top_n, int) or top_n < 1):
        raise InvalidInputError(f"top_n must be a positive integer, got {top_n!r}")
    return top_n


def order_results(
    documents: Sequence[str], prompts: Sequence[Prompt], scores: Sequence[float],
    top_n: int | None,
) -> list[RankResult]:
    """Best first; ties keep the input order."""
    results = [
        RankResult(index, score, document, prompt.truncated)
        for index, (document, prompt, score) in enumerate(
            zip(documents, prompts, scores, strict=True)
        )
    ]
    results.sort(key=lambda result: -result.relevance_score)
    return results[:top_n] if top_n is not None else results


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
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    ) -> None:
        source = resolve_model(model, hub=hub, revision=revision)
        engine = load_backend(source, backend=backend, device=device, dtype=dtype)
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
        self.template = Qwen3RerankerTemplate(engine.tokenizer, max_length=max_length)
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
        on_overflow: OnOverflow = "truncate",
        progress: bool = False,
    ) -> list[RankResult]:
        """Documents best first, with their original index and P("yes") score."""
        query = validate_query(query)
        documents = validate_documents(documents)
        top_n = validate_top_n(top_n)
        prompts = self.template.build(query, documents, instruction, on_overflow=on_overflow)
        scores = self.score_prompts(prompts, progress=progress)
        return order_results(documents, prompts, scores, top_n)

    def score(
        self,
        pairs: Iterable[tuple[str, str]],
        instruction: str | None = None,
        *,
        progress: bool = False,
    ) -> list[float]:
        """P("yes") for each (query, document) pair, in order."""
        pairs = list(pairs)
        positions_by_query: dict[str, list[int]] = {}
        for position, (query, _) in enumerate(pairs):
            positions_by_query.setdefault(validate_query(query), []).append(position)
        prompts: list[Prompt | None] = [None] * len(pairs)
        for query, positions in positions_by_query.items():
            documents = validate_documents([pairs[position][1] for position in positions])
            built = self.template.build(query, documents, instruction)
            for position, prompt in zip(positions, built, strict=True):
                prompts[position] = prompt
        return self.score_prompts([prompt for prompt in prompts if prompt is not None],
                                  progress=progress)

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
