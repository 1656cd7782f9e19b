"""POST /rerank, /v1/rerank and /v2/rerank: every rerank dialect on every rerank path;
the answer's shape follows the request and the path (see protocol/rerank.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Request, Response

from rerankd.server.protocol.cohere import CohereRerankResponse
from rerankd.server.protocol.common import truncation_headers
from rerankd.server.protocol.rerank import RERANK_PATHS, RerankRequest, RerankResponse, TEIRank
from rerankd.server.routes.common import rank, request_id

router = APIRouter(tags=["rerank"])

Answer = RerankResponse | CohereRerankResponse | list[TEIRank]
SUMMARIES = {
    "/rerank": "Rerank: the seed contract, TEI (`texts`), or Cohere v1/Jina (a `model`, "
    "`top_n`, `return_documents` or document objects)",
    "/v1/rerank": "Rerank (Cohere v1, Jina); documents are returned unless "
    "return_documents=false",
    "/v2/rerank": "Rerank (Cohere v2); documents are returned only with return_documents=true",
}


def endpoint(
    version: Literal["1", "2"] | None,
) -> Callable[[RerankRequest, Request, Response], Awaitable[Answer]]:
    async def rerank(body: RerankRequest, request: Request, response: Response) -> Answer:
        ranking = await rank(request, body.to_rank_request())
        response.headers.update(truncation_headers(ranking.truncated_indices))
        model = request.app.state.model_name
        shape = body.answer_shape(version)
        if shape == "tei":
            return TEIRank.from_ranking(ranking, body)
        if shape == "seed":
            return RerankResponse.from_ranking(ranking, model)
        return CohereRerankResponse.from_ranking(
            ranking, body, version=version or "1", request_id=request_id(request), model=model,
        )

    return rerank


for path, version in RERANK_PATHS.items():
    router.add_api_route(
        path, endpoint(version), methods=["POST"], response_model=Answer,
        response_model_exclude_none=True, summary=SUMMARIES.get(path),
        include_in_schema=path in SUMMARIES, name=f"rerank {path}",
    )
