"""POST /v1/rerank and /v2/rerank: Cohere v1/v2, and Jina (which shares /v1/rerank)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rerankd.ranking import RankRequest
from rerankd.server.protocol.common import PositiveInt, RerankdOptions


class DocumentObject(BaseModel):
    """A document as an object: ``text`` is scored, other fields come back untouched."""

    model_config = ConfigDict(extra="allow")
    text: str


class CohereRerankRequest(RerankdOptions):
    model: str | None = Field(default=None, description="Accepted and ignored.")
    query: str
    documents: list[str | DocumentObject] = Field(min_length=1)
    top_n: PositiveInt | None = None
    return_documents: bool | None = Field(
        default=None, description="Default: true on /v1 (Jina), false on /v2 (Cohere)."
    )
    max_tokens_per_doc: PositiveInt | None = None

    def texts(self) -> list[str]:
        return [doc if isinstance(doc, str) else doc.text for doc in self.documents]

    def to_rank_request(self) -> RankRequest:
        return RankRequest(
            query=self.query, documents=self.texts(), instruction=self.instruction,
            top_n=self.top_n, max_length=self.max_length,
            max_tokens_per_doc=self.max_tokens_per_doc, on_overflow=self.on_overflow,
        )


class ReturnedDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str


class CohereResult(BaseModel):
    index: int
    relevance_score: float
    document: ReturnedDocument | None = None


class ApiVersion(BaseModel):
    version: str


class BilledUnits(BaseModel):
    search_units: int


class Tokens(BaseModel):
    input_tokens: int
    output_tokens: int = 0


class Meta(BaseModel):
    api_version: ApiVersion
    billed_units: BilledUnits
    tokens: Tokens


class Usage(BaseModel):
    total_tokens: int


class CohereRerankResponse(BaseModel):
    """Cohere's fields (id, results, meta) and Jina's (model, usage) in one reply."""

    id: str
    model: str
    results: list[CohereResult]
    meta: Meta
    usage: Usage
