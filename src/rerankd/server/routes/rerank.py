"""POST /rerank: the seed contract, or TEI when the body carries ``texts``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rerankd.server.protocol.common import logit, passage_of, truncation_headers
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
async def rerank(
    body: RerankRequest, request: Request, response: Response
) -> RerankResponse | list[TEIRank]:
    engine = ready_engine(request)
    ranking = await run_request(request, engine.rank(body.to_rank_request()))
    response.headers.update(truncation_headers(ranking.truncated_indices))
    if body.is_tei:
        return [
            TEIRank(
                index=result.index,
                score=logit(result.relevance_score) if body.raw_scores else result.relevance_score,
                text=result.document if body.return_text else None,
                truncated=result.truncated or None, passage=passage_of(result),
            )
            for result in ranking.results
        ]
    return RerankResponse(
        model=engine.model_name,
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
