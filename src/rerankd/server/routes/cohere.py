"""POST /v1/rerank (Cohere v1, Jina) and /v2/rerank (Cohere v2)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rerankd.server.protocol.cohere import (
    ApiVersion,
    BilledUnits,
    CohereRerankRequest,
    CohereRerankResponse,
    CohereResult,
    Meta,
    ReturnedDocument,
    Tokens,
    Usage,
)
from rerankd.server.protocol.common import (
    passage_of,
    truncation_headers,
    truncation_warning,
)
from rerankd.server.routes.common import ready_engine, request_id, run_request

router = APIRouter(tags=["cohere / jina"])


async def _rerank(
    body: CohereRerankRequest, request: Request, response: Response, version: str,
    return_documents: bool,
) -> CohereRerankResponse:
    engine = ready_engine(request)
    ranking = await run_request(request, engine.rank(body.to_rank_request()))
    truncated = ranking.truncated_indices
    response.headers.update(truncation_headers(truncated))
    if body.return_documents is not None:
        return_documents = body.return_documents
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
    return CohereRerankResponse(
        id=request_id(request),
        model=engine.model_name,
        results=results,
        meta=Meta(
            api_version=ApiVersion(version=version),
            billed_units=BilledUnits(search_units=1),
            tokens=Tokens(input_tokens=ranking.prompt_tokens),
            warnings=[truncation_warning(truncated)] if truncated else None,
        ),
        usage=Usage(total_tokens=ranking.prompt_tokens),
    )


@router.post(
    "/v1/rerank", response_model=CohereRerankResponse, response_model_exclude_none=True,
    summary="Rerank (Cohere v1 / Jina); documents are returned unless return_documents=false",
)
async def rerank_v1(
    body: CohereRerankRequest, request: Request, response: Response
) -> CohereRerankResponse:
    return await _rerank(body, request, response, "1", return_documents=True)


@router.post(
    "/v2/rerank", response_model=CohereRerankResponse, response_model_exclude_none=True,
    summary="Rerank (Cohere v2); documents are returned only with return_documents=true",
)
async def rerank_v2(
    body: CohereRerankRequest, request: Request, response: Response
) -> CohereRerankResponse:
    return await _rerank(body, request, response, "2", return_documents=False)
