"""The Cohere v1/v2 and Jina answer: Cohere's fields (id, results, meta) and Jina's
(model, usage) in one reply, which either's clients parse."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from rerankd.ranking import Ranking
from rerankd.server.protocol.common import Passage, passage_of, truncation_warning
from rerankd.server.protocol.rerank import RerankRequest


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
    prompt_tokens: int
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
        cls, ranking: Ranking, body: RerankRequest, *, version: str, request_id: str,
        model: str,
    ) -> CohereRerankResponse:
        """Documents come back unless return_documents says not (on v2: only if it says so),
        and then without a ``document`` key at all: some clients test for the key and
        would read a null."""
        return_documents = body.return_documents
        if return_documents is None:
            return_documents = version != "2"
        documents = body.documents or []
        truncated = ranking.truncated_indices
        results = []
        for result in ranking.results:
            document = None
            if return_documents:
                original = documents[result.index]
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
            usage=Usage(prompt_tokens=ranking.prompt_tokens, total_tokens=ranking.prompt_tokens),
        )
