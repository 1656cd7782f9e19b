"""Scoring one query's documents, in their order, through the library or a server.

Shared by ``rerankd eval`` and ``rerankd bench``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rerankd.errors import RerankdError

if TYPE_CHECKING:
    from rerankd.reranker import Reranker

# Scores for one query's candidate documents, in their order.
Scorer = Callable[[str, Sequence[str]], list[float]]


def library_scorer(reranker: Reranker) -> Scorer:
    def score(query: str, documents: Sequence[str]) -> list[float]:
        return reranker.score([(query, document) for document in documents])

    return score


def server_scorer(url: str, api_key: str | None = None, timeout_s: float = 3600) -> Scorer:
    """POST /rerank on a running server; one HTTP connection per calling thread."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    local = threading.local()

    def score(query: str, documents: Sequence[str]) -> list[float]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=timeout_s, headers=headers)
        reply = local.client.post("/rerank", json={"query": query, "documents": list(documents)})
        if reply.status_code != 200:
            raise RerankdError(f"{url}/rerank answered {reply.status_code}: {reply.text[:300]}")
        by_index = {item["index"]: item["relevance_score"] for item in reply.json()["results"]}
        return [by_index[index] for index in range(len(documents))]

    return score
