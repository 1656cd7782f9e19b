"""POST /v1/rerank and /v2/rerank: Cohere v1/v2, and Jina (which shares /v1/rerank)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rerankd.errors import InvalidInputError
from rerankd.ranking import Ranking, RankRequest
from rerankd.server.protocol.common import (
    Passage,
    RerankdOptions,
    TopN,
    passage_of,
    rank_options,
    truncation_warning,
)


class DocumentObject(BaseModel):
    """A document as an object: ``text`` (or the ``rank_fields``) is scored, and every
    field comes back untouched."""

    model_config = ConfigDict(extra="allow")
    text: str = ""


class CohereRerankRequest(RerankdOptions):
    model: str | None = Field(default=None, description="Accepted and ignored.")
    query: str
    documents: list[str | DocumentObject] = Field(min_length=1)
    top_n: TopN | None = None
    return_documents: bool | None = Field(
        default=None, description="Default: true on /v1 (Jina), false on /v2 (Cohere)."
    )
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
            query=self.query, documents=self.texts(), top_n=self.top_n or None,
            options=rank_options(self),
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

    @classmethod
    def from_ranking(
        cls, ranking: Ranking, body: CohereRerankRequest, *, version: str, request_id: str,
        model: str, return_documents: bool,
    ) -> CohereRerankResponse:
        """``return_documents``: the route's default, unless the request says."""
        if body.return_documents is not None:
            return_documents = body.return_documents
        truncated = ranking.truncated_indices
        results = []
        for result in ranking.results:
            document = None
            if return_documents:
                original = body.documents[result.index]
                document = (
                    ReturnedDocument(text=original) if isinstance(original, str)
                    else ReturnedDocument.model_validate(original.model_dump(exclude_unset=True))
                )
            results.append(CohereResult(
                index=result.index, relevance_score=result.relevance_score, document=document,
                truncated=result.truncated or None, passage=passage_of(result),
            ))
        return cls(
            id=request_id, model=model, results=results,
            meta=Meta(
                api_version=ApiVersion(version=version),
                billed_units=BilledUnits(search_units=1),
                tokens=Tokens(input_tokens=ranking.prompt_tokens),
                warnings=[truncation_warning(truncated)] if truncated else None,
            ),
            usage=Usage(total_tokens=ranking.prompt_tokens),
        )
