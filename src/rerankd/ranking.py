"""What a ranking request and its results are, independent of any engine or API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rerankd.errors import InvalidInputError

OnOverflow = Literal["truncate", "error"]


@dataclass(frozen=True, slots=True)
class RankResult:
    """One document's place in a ranking."""

    index: int
    relevance_score: float
    document: str
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class DocumentScore:
    """A document's score with what it cost: prompt tokens, and whether it was cut."""

    score: float
    prompt_tokens: int
    truncated: bool


@dataclass(frozen=True)
class RankRequest:
    """One query against many documents, with the per-request options every API maps to."""

    query: str
    documents: Sequence[str]
    instruction: str | None = None
    top_n: int | None = None
    max_length: int | None = None
    max_tokens_per_doc: int | None = None
    on_overflow: OnOverflow = "truncate"

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
        for name in ("top_n", "max_length", "max_tokens_per_doc"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
        if self.on_overflow not in ("truncate", "error"):
            raise InvalidInputError("on_overflow must be 'truncate' or 'error'")
        return self


def order_results(
    documents: Sequence[str], scores: Sequence[DocumentScore], top_n: int | None
) -> list[RankResult]:
    """Best first; ties keep the input order."""
    results = [
        RankResult(index, scored.score, document, scored.truncated)
        for index, (document, scored) in enumerate(zip(documents, scores, strict=True))
    ]
    results.sort(key=lambda result: -result.relevance_score)
    return results[:top_n] if top_n is not None else results
