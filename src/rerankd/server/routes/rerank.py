"""POST /rerank: the seed contract, or TEI when the body carries ``texts``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rerankd.server.protocol.common import truncation_headers
from rerankd.server.protocol.rerank import RerankRequest, RerankResponse, TEIRank
from rerankd.server.routes.common import rank

router = APIRouter(tags=["rerank"])


@router.post(
    "/rerank",
    response_model=RerankResponse | list[TEIRank],
    response_model_exclude_none=True,
    summary="Rerank documents (seed contract; TEI dialect with `texts`)",
)
async def rerank(
    body: RerankRequest, request: Request, response: Response
) -> RerankResponse | list[TEIRank]:
    ranking = await rank(request, body.to_rank_request())
    response.headers.update(truncation_headers(ranking.truncated_indices))
    if body.is_tei:
        return TEIRank.from_ranking(ranking, body)
    return RerankResponse.from_ranking(ranking, request.app.state.model_name)
