"""POST /rerank: the seed contract (``documents``) and the TEI dialect (``texts``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from rerankd.ranking import RankRequest
from rerankd.server.protocol.common import Passage, PositiveInt, RerankdOptions


class RerankRequest(RerankdOptions):
    query: str = Field(description="The search query.")
    documents: list[str] | None = Field(
        default=None, min_length=1, description="Seed contract: documents."
    )
    texts: list[str] | None = Field(default=None, min_length=1, description="TEI: documents.")
    top_n: PositiveInt | None = None
    model: str | None = Field(default=None, description="Accepted and ignored.")
    max_tokens_per_doc: PositiveInt | None = None
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
        options = self.rank_options()
        if self.truncate is False:
            options["on_overflow"] = "error"
        return RankRequest(
            query=self.query, documents=documents or [], top_n=self.top_n,
            max_tokens_per_doc=self.max_tokens_per_doc, **options,
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


class TEIRank(BaseModel):
    index: int
    score: float
    text: str | None = None
    truncated: bool | None = None
    passage: Passage | None = None
