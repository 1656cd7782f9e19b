"""POST /score and /v1/score: vLLM's score API (scores in input order)."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request, Response

from rerankd.engine import RerankEngine
from rerankd.ranking import DocumentScore, RankRequest, group_by_query
from rerankd.server.protocol.common import logit, truncation_headers
from rerankd.server.protocol.score import ScoreData, ScoreRequest, ScoreResponse, ScoreUsage
from rerankd.server.routes.common import ready_engine, request_id, run_request

router = APIRouter(tags=["vllm"])


async def _score_pairs(
    engine: RerankEngine, body: ScoreRequest, pairs: list[tuple[str, str]]
) -> list[DocumentScore]:
    """Pairs grouped by query; the groups run concurrently and share model batches."""
    groups = list(group_by_query(pairs).items())
    scored_groups = await asyncio.gather(*(
        engine.score(RankRequest(
            query=query, documents=[pairs[position][1] for position in positions],
            **{**body.rank_options(),
               "max_length": body.truncate_prompt_tokens or body.max_length},
        ))
        for query, positions in groups
    ))
    scores: dict[int, DocumentScore] = {}
    for (_, positions), scored in zip(groups, scored_groups, strict=True):
        scores.update(zip(positions, scored, strict=True))
    return [scores[position] for position in range(len(pairs))]


@router.post("/score", response_model=ScoreResponse, response_model_exclude_none=True,
             summary="Score pairs (vLLM)")
@router.post("/v1/score", response_model=ScoreResponse, response_model_exclude_none=True,
             include_in_schema=False)
async def score(body: ScoreRequest, request: Request, response: Response) -> ScoreResponse:
    engine = ready_engine(request)
    pairs = body.pairs()
    scored = await run_request(request, _score_pairs(engine, body, pairs))
    response.headers.update(
        truncation_headers([index for index, item in enumerate(scored) if item.truncated])
    )
    tokens = sum(item.prompt_tokens for item in scored)
    return ScoreResponse(
        id=f"score-{request_id(request)}",
        created=int(time.time()),
        model=engine.model_name,
        data=[
            ScoreData(
                index=index, score=item.score if body.use_activation else logit(item.score),
                truncated=item.truncated or None,
            )
            for index, item in enumerate(scored)
        ],
        usage=ScoreUsage(prompt_tokens=tokens, total_tokens=tokens),
    )
