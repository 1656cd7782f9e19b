"""POST /v1/rerank (Cohere v1, Jina) and /v2/rerank (Cohere v2)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rerankd.server.protocol.cohere import CohereRerankRequest, CohereRerankResponse
from rerankd.server.protocol.common import truncation_headers
from rerankd.server.routes.common import rank, request_id

router = APIRouter(tags=["cohere / jina"])


async def _rerank(
    body: CohereRerankRequest, request: Request, response: Response, version: str,
    return_documents: bool,
) -> CohereRerankResponse:
    ranking = await rank(request, body.to_rank_request())
    response.headers.update(truncation_headers(ranking.truncated_indices))
    return CohereRerankResponse.from_ranking(
        ranking, body, version=version, request_id=request_id(request),
        model=request.app.state.model_name, return_documents=return_documents,
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
