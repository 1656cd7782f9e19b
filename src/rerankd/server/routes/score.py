"""POST /score and /v1/score: vLLM's score API (scores in input order)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rerankd.server.protocol.common import truncation_headers
from rerankd.server.protocol.score import ScoreRequest, ScoreResponse
from rerankd.server.routes.common import request_id, score

router = APIRouter(tags=["vllm"])


@router.post("/score", response_model=ScoreResponse, response_model_exclude_none=True,
             summary="Score pairs (vLLM)")
@router.post("/v1/score", response_model=ScoreResponse, response_model_exclude_none=True,
             summary="Score pairs (vLLM, OpenAI-style path)")
async def score_pairs(
    body: ScoreRequest, request: Request, response: Response
) -> ScoreResponse:
    scores = await score(request, body.to_pair_request())
    response.headers.update(
        truncation_headers([index for index, item in enumerate(scores) if item.truncated])
    )
    return ScoreResponse.from_scores(
        scores, body, request_id=request_id(request), model=request.app.state.model_name
    )
