"""POST /rerank: the seed contract (``documents``) and the TEI dialect (``texts``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from rerankd.ranking import Ranking, RankRequest
from rerankd.server.protocol.common import (
    Passage,
    RerankdOptions,
    TopN,
    logit,
    passage_of,
    rank_options,
)


class RerankRequest(RerankdOptions):
    query: str = Field(description="The search query.")
    documents: list[str] | None = Field(
        default=None, min_length=1, description="Seed contract: documents."
    )
    texts: list[str] | None = Field(default=None, min_length=1, description="TEI: documents.")
    top_n: TopN | None = None
    model: str | None = Field(default=None, description="Accepted and ignored.")
    # TEI options
    raw_scores: bool = False
    return_text: bool = False
    truncate: bool | None = Field(
        default=None, description="TEI: false refuses over-long inputs; default truncates."
    )
    truncation_direction: Literal["Right", "right"] = Field(
        default="Right", description="Only Right: the prompt's suffix must stay last."
    )

    @model_validator(mode="after")
    def one_document_field(self) -> RerankRequest:
        if (self.documents is None) == (self.texts is None):
            raise ValueError("send the documents as either `documents` or `texts` (TEI)")
        return self

    @property
    def is_tei(self) -> bool:
        return self.texts is not None

    def to_rank_request(self) -> RankRequest:
        documents = self.texts if self.texts is not None else self.documents
        return RankRequest(
            query=self.query, documents=documents or [], top_n=self.top_n or None,
            options=rank_options(self, on_overflow="error" if self.truncate is False else None),
        )


class RerankResult(BaseModel):
    index: int
    relevance_score: float
    document: str
    truncated: bool | None = Field(default=None, description="Present when not all scored.")
    passage: Passage | None = Field(default=None, description="The best chunk's characters.")


class Usage(BaseModel):
    total_tokens: int


class RerankResponse(BaseModel):
    model: str
    results: list[RerankResult]
    usage: Usage

    @classmethod
    def from_ranking(cls, ranking: Ranking, model: str) -> RerankResponse:
        return cls(
            model=model,
            results=[
                RerankResult(
                    index=result.index, relevance_score=result.relevance_score,
                    document=result.document, truncated=result.truncated or None,
                    passage=passage_of(result),
                )
                for result in ranking.results
            ],
            usage=Usage(total_tokens=ranking.prompt_tokens),
        )


class TEIRank(BaseModel):
    index: int
    score: float
    text: str | None = None
    truncated: bool | None = None
    passage: Passage | None = None

    @classmethod
    def from_ranking(cls, ranking: Ranking, body: RerankRequest) -> list[TEIRank]:
        return [
            cls(
                index=result.index,
                score=logit(result.relevance_score) if body.raw_scores else result.relevance_score,
                text=result.document if body.return_text else None,
                truncated=result.truncated or None, passage=passage_of(result),
            )
            for result in ranking.results
        ]
