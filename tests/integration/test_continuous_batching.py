"""A backend that batches across requests itself (vLLM) gets each request's prompts as
they come, and a request that goes away is cancelled in the engine. (The queue limit and
engine failures are tested for both scheduling paths in test_server_errors.py.)

The backend here is the real tiny transformers model behind ``score_prompts_async``
(tests/integration/server_harness.py); vLLM itself goes through the same path in
test_vllm_backend.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from rerankd.batching import DirectScheduler
from tests.integration.server_harness import (
    ContinuousGatedBackend,
    request_then_leave,
    running_server,
)
from tests.integration.test_server_errors import wait_until

DOCS = ["Beijing is the capital of China.", "Bananas are yellow.", "北京是中国的首都。"]


def test_each_request_goes_to_the_engine_whole_and_scores_equal_the_library(reranker):
    backend = ContinuousGatedBackend(reranker.backend)
    queries = [f"question number {n} about capitals" for n in range(12)]
    with running_server(backend, cache_size=0) as server:
        assert isinstance(server.app.state.engine.scheduler, DirectScheduler)
        backend.calls.clear()  # the warm-up
        with ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(lambda q: httpx.post(
                server.url + "/v2/rerank", json={"query": q, "documents": DOCS}, timeout=60
            ), queries))
    assert [reply.status_code for reply in replies] == [200] * len(queries)
    for query, reply in zip(queries, replies, strict=True):
        expected = reranker.score([(query, document) for document in DOCS])
        got = {r["index"]: r["relevance_score"] for r in reply.json()["results"]}
        assert all(abs(got[i] - expected[i]) <= 1e-5 for i in range(len(DOCS)))
    assert sorted(len(call) for call in backend.calls) == [len(DOCS)] * len(queries)


def test_a_timeout_or_a_client_that_leaves_cancels_the_engine_request(reranker):
    backend = ContinuousGatedBackend(reranker.backend)
    with running_server(backend, cache_size=0, request_timeout=1) as server:
        scheduler = server.app.state.engine.scheduler
        backend.gate.clear()
        with server.client() as http:
            slow = http.post("/rerank", json={"query": "slow", "documents": DOCS})
        assert slow.status_code == 504
        wait_until(lambda: backend.cancelled == 1 and scheduler.queue_depth == 0)

        body = b'{"query": "leaver", "documents": ["nobody waits for this"]}'
        with request_then_leave(server, "/rerank", body):
            wait_until(lambda: scheduler.queue_depth == 1)
        wait_until(lambda: backend.cancelled == 2 and scheduler.queue_depth == 0)
        backend.gate.set()
        with server.client() as http:
            assert http.post("/rerank", json={"query": "q", "documents": DOCS}).status_code == 200
