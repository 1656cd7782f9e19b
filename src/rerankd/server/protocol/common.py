"""Fields shared by the dialects, including rerankd's extensions."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rerankd.ranking import RankResult

PositiveInt = Annotated[int, Field(ge=1)]
OverflowPolicy = Literal["truncate", "error"]


class RequestModel(BaseModel):
    """Unknown fields are ignored, as the servers users come from do."""

    model_config = ConfigDict(extra="ignore")


class RerankdOptions(RequestModel):
    """Extensions every rerank dialect accepts."""

    max_tokens_per_query: PositiveInt | None = Field(
        default=None, description="Cap on the query's tokens (cut, or 422 with on_overflow=error)."
    )
    long_docs: Literal["truncate", "chunk"] | None = Field(
        default=None, description="Over-long documents: cut their tail, or split them into "
        "overlapping windows scored separately (default: the server's --long-docs).",
    )
    max_chunks_per_doc: PositiveInt | None = Field(
        default=None, description="Chunk over-long documents into at most this many windows."
    )
    chunk_aggregate: Literal["max", "top2-mean"] | None = Field(
        default=None, description="A chunked document's score: its best window, or the mean "
        "of its best two.",
    )

    instruction: str | None = Field(
        default=None, description="Task instruction (English), e.g. 'Given a code search query, "
        "retrieve code that answers it'. Default: the model card's web-search instruction.",
    )
    max_length: PositiveInt | None = Field(
        default=None,
        description="Cap on each prompt's length in tokens (at most the server's).",
    )
    on_overflow: OverflowPolicy = Field(
        default="truncate",
        description="What to do with a document over its token budget: cut its tail, or "
        "refuse the request with a 422.",
    )


    def rank_options(self) -> dict[str, Any]:
        """The RankRequest fields these options set."""
        return {
            "instruction": self.instruction, "max_length": self.max_length,
            "max_tokens_per_query": self.max_tokens_per_query, "on_overflow": self.on_overflow,
            "long_docs": self.long_docs, "max_chunks_per_doc": self.max_chunks_per_doc,
            "chunk_aggregate": self.chunk_aggregate,
        }


class Passage(BaseModel):
    """Characters [start, end) of the document: its best-scoring chunk."""

    start: int
    end: int


def passage_of(result: RankResult) -> Passage | None:
    return Passage(start=result.passage[0], end=result.passage[1]) if result.passage else None


def truncation_headers(indices: list[int]) -> dict[str, str]:
    """Response header naming the documents whose text was not all scored."""
    if not indices:
        return {}
    return {TRUNCATED_HEADER: ",".join(map(str, indices))}


TRUNCATED_HEADER = "x-rerankd-truncated-documents"


def truncation_warning(indices: list[int]) -> str:
    return (
        f"documents {', '.join(map(str, indices))} were longer than their token budget; "
        "only part of their text was scored"
    )


def logit(probability: float) -> float:
    """The raw score (logit_yes - logit_no) behind a probability, kept finite for JSON."""
    clamped = min(max(probability, 1e-38), 1.0 - 1e-16)
    return math.log(clamped) - math.log1p(-clamped)
