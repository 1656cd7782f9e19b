"""What a ranking request and its results are, independent of any engine or API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rerankd.errors import InvalidInputError
from rerankd.options import RankOptions, check_positive, check_text
from rerankd.prompts import Prompt, Span


@dataclass(frozen=True, slots=True)
class RankResult:
    """One document's place in a ranking."""

    index: int
    relevance_score: float
    document: str
    truncated: bool = False
    passage: Span | None = None  # characters of the best chunk, for a chunked document


@dataclass(frozen=True, slots=True)
class DocumentScore:
    """A document's score with what it cost: prompt tokens, whether text was left out,
    and for a chunked document its best chunk's characters and the number of chunks."""

    score: float
    prompt_tokens: int
    truncated: bool
    passage: Span | None = None
    chunks: int = 1


@dataclass(frozen=True)
class RankRequest:
    """One query against many documents: the best ``top_n`` come back, best first."""

    query: str
    documents: Sequence[str]
    options: RankOptions = field(default_factory=RankOptions)
    top_n: int | None = None

    def validated(self) -> RankRequest:
        """Raise InvalidInputError for anything a caller could get wrong."""
        check_query(self.query)
        if isinstance(self.documents, str) or not isinstance(self.documents, Sequence):
            raise InvalidInputError("documents must be a list of strings")
        for index, document in enumerate(self.documents):
            check_document(f"documents[{index}]", document)
        check_positive("top_n", self.top_n)
        self.options.validated()
        return self


@dataclass(frozen=True)
class PairRequest:
    """(query, document) pairs, scored in their order (vLLM's /score)."""

    pairs: Sequence[tuple[str, str]]
    options: RankOptions = field(default_factory=RankOptions)

    def validated(self) -> PairRequest:
        for position, (query, document) in enumerate(self.pairs):
            check_query(query)
            check_document(f"pair {position}'s document", document)
        self.options.validated()
        return self


@dataclass(frozen=True)
class Ranking:
    """Results best first, with what the request cost."""

    results: list[RankResult]
    prompt_tokens: int
    cache_hits: int

    @property
    def truncated_indices(self) -> list[int]:
        return sorted(result.index for result in self.results if result.truncated)


def check_query(query: object) -> None:
    if not isinstance(query, str):
        raise InvalidInputError(f"query must be a string, got {type(query).__name__}")
    if not query.strip():
        raise InvalidInputError("query must not be empty")
    check_text("query", query)


def check_document(name: str, document: object) -> None:
    if not isinstance(document, str):
        raise InvalidInputError(f"{name} must be a string, got {type(document).__name__}")
    check_text(name, document)


def document_scores(
    prompts: Sequence[Prompt], scores: Sequence[float], documents: int, options: RankOptions
) -> list[DocumentScore]:
    """One score per document from its prompts' scores: a chunked document scores the
    max over its chunks (or the mean of its best two) and names its best chunk."""
    by_document: list[list[tuple[float, Prompt]]] = [[] for _ in range(documents)]
    for prompt, score in zip(prompts, scores, strict=True):
        by_document[prompt.document].append((score, prompt))
    results = []
    for scored in by_document:
        ranked = sorted(scored, key=lambda item: -item[0])
        best_score, best = ranked[0]
        if options.chunk_aggregate == "top2-mean" and len(ranked) > 1:
            best_score = (ranked[0][0] + ranked[1][0]) / 2
        results.append(DocumentScore(
            score=best_score,
            prompt_tokens=sum(len(prompt) for _, prompt in scored),
            truncated=any(prompt.truncated for _, prompt in scored),
            passage=best.span,
            chunks=len(scored),
        ))
    return results


def order_results(
    documents: Sequence[str], scores: Sequence[DocumentScore], top_n: int | None
) -> list[RankResult]:
    """Best first; ties keep the input order."""
    results = [
        RankResult(index, scored.score, document, scored.truncated, scored.passage)
        for index, (document, scored) in enumerate(zip(documents, scores, strict=True))
    ]
    results.sort(key=lambda result: -result.relevance_score)
    return results[:top_n] if top_n is not None else results
