"""POST /v1/rerank and /v2/rerank: Cohere v1/v2, and Jina (which shares /v1/rerank)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rerankd.errors import InvalidInputError
from rerankd.ranking import RankRequest
from rerankd.server.protocol.common import Passage, PositiveInt, RerankdOptions


class DocumentObject(BaseModel):
    """A document as an object: ``text`` (or the ``rank_fields``) is scored, and every
    field comes back untouched."""

    model_config = ConfigDict(extra="allow")
    text: str = ""


class CohereRerankRequest(RerankdOptions):
    model: str | None = Field(default=None, description="Accepted and ignored.")
    query: str
    documents: list[str | DocumentObject] = Field(min_length=1)
    top_n: PositiveInt | None = None
    return_documents: bool | None = Field(
        default=None, description="Default: true on /v1 (Jina), false on /v2 (Cohere)."
    )
    max_tokens_per_doc: PositiveInt | None = None
    rank_fields: list[str] | None = Field(
        default=None, min_length=1,
        description="Cohere v1: score these fields of each document object, as "
        "'field: value' lines (e.g. ['title', 'text']).",
    )

    def texts(self) -> list[str]:
        return [self._scored_text(index, doc) for index, doc in enumerate(self.documents)]

    def _scored_text(self, index: int, document: str | DocumentObject) -> str:
        if isinstance(document, str):
            return document
        if not self.rank_fields:
            if "text" not in document.model_fields_set:
                raise InvalidInputError(
                    f"documents[{index}] has no \"text\" field (or name rank_fields)"
                )
            return document.text
        fields = document.model_dump()
        lines = [f"{name}: {fields[name]}" for name in self.rank_fields if name in fields]
        if not lines:
            raise InvalidInputError(
                f"documents[{index}] has none of the rank_fields {self.rank_fields}"
            )
        return "\n".join(lines)

    def to_rank_request(self) -> RankRequest:
        return RankRequest(
            query=self.query, documents=self.texts(), top_n=self.top_n,
            max_tokens_per_doc=self.max_tokens_per_doc, **self.rank_options(),
        )


class ReturnedDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str | None = None


class CohereResult(BaseModel):
    index: int
    relevance_score: float
    document: ReturnedDocument | None = None
    truncated: bool | None = None
    passage: Passage | None = None


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
    warnings: list[str] | None = None


class Usage(BaseModel):
    total_tokens: int


class CohereRerankResponse(BaseModel):
    """Cohere's fields (id, results, meta) and Jina's (model, usage) in one reply."""

    id: str
    model: str
    results: list[CohereResult]
    meta: Meta
    usage: Usage
