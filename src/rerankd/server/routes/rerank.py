"""POST /rerank: the seed contract, or TEI when the body carries ``texts``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from rerankd.server.protocol.common import logit
from rerankd.server.protocol.rerank import (
    RerankRequest,
    RerankResponse,
    RerankResult,
    TEIRank,
    Usage,
)
from rerankd.server.routes.common import ready_engine, run_request

router = APIRouter(tags=["rerank"])


@router.post(
    "/rerank",
    response_model=RerankResponse | list[TEIRank],
    response_model_exclude_none=True,
    summary="Rerank documents (seed contract; TEI dialect with `texts`)",
)
async def rerank(body: RerankRequest, request: Request) -> RerankResponse | list[TEIRank]:
    engine = ready_engine(request)
    ranking = await run_request(request, engine.rank(body.to_rank_request()))
    if body.is_tei:
        return [
            TEIRank(
                index=result.index,
                score=logit(result.relevance_score) if body.raw_scores else result.relevance_score,
                text=result.document if body.return_text else None,
            )
            for result in ranking.results
        ]
    return RerankResponse(
        model=engine.model_name,
        results=[
            RerankResult(
                index=result.index, relevance_score=result.relevance_score,
                document=result.document,
            )
            for result in ranking.results
        ],
        usage=Usage(total_tokens=ranking.prompt_tokens),
    )
