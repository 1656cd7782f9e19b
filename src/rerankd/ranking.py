"""What a ranking request and its results are, independent of any engine or API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rerankd.errors import InvalidInputError
from rerankd.prompts import Chunking, OnOverflow, Prompt, Span

ChunkAggregate = Literal["max", "top2-mean"]
LongDocs = Literal["truncate", "chunk"]
DEFAULT_MAX_CHUNKS = 16


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
    """One query against many documents, with the per-request options every API maps to."""

    query: str
    documents: Sequence[str]
    instruction: str | None = None
    top_n: int | None = None
    max_length: int | None = None
    max_tokens_per_doc: int | None = None
    max_tokens_per_query: int | None = None
    on_overflow: OnOverflow = "truncate"
    long_docs: LongDocs | None = None  # None: the server's default (the library: truncate)
    max_chunks_per_doc: int | None = None  # implies chunking, as in Cohere v1
    chunk_aggregate: ChunkAggregate | None = None

    def chunking(self, default_mode: LongDocs, default_max_chunks: int) -> Chunking | None:
        """How over-long documents are handled: None (cut) or windows of this request."""
        chunked = self.max_chunks_per_doc is not None or (self.long_docs or default_mode) == "chunk"
        if not chunked or self.long_docs == "truncate":
            return None
        return Chunking(max_chunks=self.max_chunks_per_doc or default_max_chunks)

    def validated(self) -> RankRequest:
        """Raise InvalidInputError for anything a caller could get wrong."""
        if not isinstance(self.query, str):
            raise InvalidInputError(f"query must be a string, got {type(self.query).__name__}")
        if not self.query.strip():
            raise InvalidInputError("query must not be empty")
        if isinstance(self.documents, str) or not isinstance(self.documents, Sequence):
            raise InvalidInputError("documents must be a list of strings")
        for index, document in enumerate(self.documents):
            if not isinstance(document, str):
                raise InvalidInputError(
                    f"documents[{index}] must be a string, got {type(document).__name__}"
                )
        if self.instruction is not None and not isinstance(self.instruction, str):
            raise InvalidInputError("instruction must be a string")
        _check_encodable("query", self.query)
        _check_encodable("instruction", self.instruction or "")
        for index, document in enumerate(self.documents):
            _check_encodable(f"documents[{index}]", document)
        for name in (
            "top_n", "max_length", "max_tokens_per_doc", "max_tokens_per_query",
            "max_chunks_per_doc",
        ):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
        if self.on_overflow not in ("truncate", "error"):
            raise InvalidInputError("on_overflow must be 'truncate' or 'error'")
        if self.long_docs not in (None, "truncate", "chunk"):
            raise InvalidInputError("long_docs must be 'truncate' or 'chunk'")
        if self.chunk_aggregate not in (None, "max", "top2-mean"):
            raise InvalidInputError("chunk_aggregate must be 'max' or 'top2-mean'")
        return self


def _check_encodable(name: str, text: str) -> None:
    """JSON can carry lone UTF-16 surrogates ("\\ud800"); they are not text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{name} contains an unpaired surrogate, not valid text") from None


def group_by_query(pairs: Sequence[tuple[str, str]]) -> dict[str, list[int]]:
    """Positions of the pairs of each query, so that a query's documents share a prompt
    prefix (and a request) however the pairs were ordered."""
    positions: dict[str, list[int]] = {}
    for position, (query, _) in enumerate(pairs):
        positions.setdefault(query, []).append(position)
    return positions


def score_documents(
    prompts: Sequence[Prompt], scores: Sequence[float], documents: int,
    aggregate: ChunkAggregate = "max",
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
        if aggregate == "top2-mean" and len(ranked) > 1:
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
