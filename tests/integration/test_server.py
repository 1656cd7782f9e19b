"""The HTTP service over a real server: every dialect, the cohere SDK, batching, cache."""

from __future__ import annotations

import asyncio

import cohere
import httpx
import pytest

from tests.integration.server_harness import running_server

QUERY = "What is the capital of China?"
DOCS = [
    "The capital of China is Beijing.",
    "Gravity is a force that attracts two bodies.",
    "北京是中华人民共和国的首都。",
    "def capital(country): return CAPITALS[country]",
]


@pytest.fixture(scope="module")
def server(reranker):
    with running_server(reranker.backend) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def library_scores(reranker):
    return {result.index: result.relevance_score for result in reranker.rank(QUERY, DOCS)}


def assert_best_first_and_equal(results, library_scores, score_field="relevance_score"):
    scores = [item[score_field] for item in results]
    assert scores == sorted(scores, reverse=True)
    for item in results:
        assert item[score_field] == pytest.approx(library_scores[item["index"]], abs=1e-5)


def test_seed_contract(http, library_scores):
    reply = http.post("/rerank", json={"query": QUERY, "documents": DOCS})
    assert reply.status_code == 200
    body = reply.json()
    assert len(body["results"]) == len(DOCS)
    assert_best_first_and_equal(body["results"], library_scores)
    assert all(item["document"] == DOCS[item["index"]] for item in body["results"])
    assert body["usage"]["total_tokens"] > 0
    assert reply.headers["x-request-id"]


def test_seed_contract_with_top_n_and_instruction(http, reranker):
    instruction = "Given a code search query, retrieve code that answers it"
    reply = http.post(
        "/rerank", json={"query": QUERY, "documents": DOCS, "top_n": 2, "instruction": instruction}
    )
    expected = reranker.rank(QUERY, DOCS, instruction=instruction, top_n=2)
    results = reply.json()["results"]
    assert [item["index"] for item in results] == [item.index for item in expected]
    assert results[0]["relevance_score"] == pytest.approx(expected[0].relevance_score, abs=1e-5)


def test_tei_dialect(http, library_scores):
    reply = http.post("/rerank", json={"query": QUERY, "texts": DOCS})
    assert reply.status_code == 200
    body = reply.json()
    assert isinstance(body, list) and "text" not in body[0]
    assert_best_first_and_equal(body, library_scores, score_field="score")

    with_text = http.post(
        "/rerank", json={"query": QUERY, "texts": DOCS, "return_text": True, "raw_scores": True}
    ).json()
    import math

    for item in with_text:
        assert item["text"] == DOCS[item["index"]]
        probability = library_scores[item["index"]]
        assert item["score"] == pytest.approx(math.log(probability / (1 - probability)), abs=1e-4)


def test_tei_truncate_false_refuses_long_texts(http):
    body = {"query": QUERY, "texts": ["word " * 2000], "truncate": False}
    reply = http.post("/rerank", json=body)
    assert reply.status_code == 422
    assert "tokens" in reply.json()["error"]


def test_cohere_v2_sdk(server, library_scores):
    client = cohere.ClientV2(api_key="unused", base_url=server.url)
    response = client.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS, top_n=3)
    assert len(response.results) == 3
    for item in response.results:
        assert item.relevance_score == pytest.approx(library_scores[item.index], abs=1e-5)
    assert response.meta.api_version.version == "2"
    assert response.meta.tokens.input_tokens > 0


def test_cohere_v1_sdk_returns_documents(server, library_scores):
    client = cohere.Client(api_key="unused", base_url=server.url)
    response = client.rerank(
        model="rerank-english-v3.0", query=QUERY, documents=DOCS, return_documents=True
    )
    assert [item.document.text for item in response.results] == [
        DOCS[item.index] for item in response.results
    ]
    assert response.results[0].relevance_score == pytest.approx(
        max(library_scores.values()), abs=1e-5
    )


def test_jina_dialect_with_document_objects(http, library_scores):
    documents = [{"text": text, "id": f"doc-{i}"} for i, text in enumerate(DOCS)]
    reply = http.post("/v1/rerank", json={"model": "jina", "query": QUERY, "documents": documents})
    body = reply.json()
    assert reply.status_code == 200 and body["usage"]["total_tokens"] > 0
    assert_best_first_and_equal(body["results"], library_scores)
    for item in body["results"]:
        assert item["document"] == documents[item["index"]]


def test_v2_omits_documents_unless_asked(http):
    plain = http.post("/v2/rerank", json={"query": QUERY, "documents": DOCS}).json()
    assert all("document" not in item for item in plain["results"])
    asked = http.post(
        "/v2/rerank", json={"query": QUERY, "documents": DOCS, "return_documents": True}
    ).json()
    assert all(item["document"]["text"] == DOCS[item["index"]] for item in asked["results"])


def test_max_tokens_per_doc_cuts_documents(http, reranker):
    long_document = "Beijing " * 300
    reply = http.post(
        "/v2/rerank", json={"query": QUERY, "documents": [long_document], "max_tokens_per_doc": 20}
    )
    assert reply.status_code == 200
    expected = reranker.rank(QUERY, [long_document], max_tokens_per_doc=20)[0]
    assert reply.json()["results"][0]["relevance_score"] == pytest.approx(
        expected.relevance_score, abs=1e-5
    )


def test_vllm_score(http, reranker, library_scores):
    one_to_many = http.post("/score", json={"model": "m", "text_1": QUERY, "text_2": DOCS}).json()
    assert one_to_many["object"] == "list"
    assert [item["index"] for item in one_to_many["data"]] == list(range(len(DOCS)))
    for item in one_to_many["data"]:
        assert item["score"] == pytest.approx(library_scores[item["index"]], abs=1e-5)

    queries = [QUERY, "explain gravity"]
    pairs = list(zip(queries, DOCS[:2], strict=True))
    many = http.post("/v1/score", json={"queries": queries, "documents": DOCS[:2]}).json()
    expected = reranker.score(pairs)
    assert [item["score"] for item in many["data"]] == pytest.approx(expected, abs=1e-5)
    assert many["usage"]["prompt_tokens"] > 0

    mismatch = http.post("/score", json={"text_1": ["a", "b"], "text_2": ["c", "d", "e"]})
    assert mismatch.status_code == 422
    assert "2 queries and 3 documents" in mismatch.json()["error"]["message"]


def test_system_routes(http):
    assert http.get("/health").json() == {
        "status": "ok", "model": "tiny-test", "device": "cpu", "dtype": "float32",
    }
    models = http.get("/v1/models").json()
    assert models["data"][0]["id"] == "tiny-test"
    assert models["data"][0]["dtype"] == "float32"
    assert http.get("/openapi.json").json()["paths"].keys() >= {
        "/rerank", "/v1/rerank", "/v2/rerank", "/score"
    }
    assert http.get("/docs").status_code == 200
    metrics = http.get("/metrics").text
    for name in (
        "rerankd_requests_total", "rerankd_request_duration_seconds_bucket",
        "rerankd_pairs_scored_total", "rerankd_tokens_scored_total", "rerankd_batch_size_bucket",
        "rerankd_queue_depth", "rerankd_cache_hits_total", "rerankd_cache_misses_total",
    ):
        assert name in metrics
    assert 'route="/rerank",status="200"' in metrics


def metric_value(http: httpx.Client, name: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_a_repeated_request_is_answered_from_the_cache(http):
    body = {"query": "a query only this test sends", "documents": DOCS}
    hits_before = metric_value(http, "rerankd_cache_hits_total")
    pairs_before = metric_value(http, "rerankd_pairs_scored_total")
    first = http.post("/rerank", json=body).json()
    second = http.post("/rerank", json=body).json()
    assert first["results"] == second["results"]
    assert metric_value(http, "rerankd_cache_hits_total") - hits_before == len(DOCS)
    assert metric_value(http, "rerankd_pairs_scored_total") - pairs_before == len(DOCS)


def test_the_cache_key_includes_the_instruction(http):
    body = {"query": "instruction cache test", "documents": DOCS[:1]}
    plain = http.post("/rerank", json=body).json()["results"][0]["relevance_score"]
    other = http.post("/rerank", json={**body, "instruction": "Find fruit"}).json()
    assert other["results"][0]["relevance_score"] != plain


def test_concurrent_requests_are_batched_and_equal_single_requests(reranker):
    queries = [f"query number {i} about the capital" for i in range(50)]
    expected = {q: reranker.rank(q, DOCS) for q in queries}
    with running_server(reranker.backend, cache_size=0, batch_wait_ms=20) as server:

        async def send_all() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
                return await asyncio.gather(*(
                    client.post("/rerank", json={"query": q, "documents": DOCS}) for q in queries
                ))

        replies = asyncio.run(send_all())
        with server.client() as http:
            batches = metric_value(http, "rerankd_batch_size_count")
            pairs = metric_value(http, "rerankd_batch_size_sum")
    for query, reply in zip(queries, replies, strict=True):
        assert reply.status_code == 200
        got = [(item["index"], item["relevance_score"]) for item in reply.json()["results"]]
        want = [(item.index, item.relevance_score) for item in expected[query]]
        assert [index for index, _ in got] == [index for index, _ in want]
        assert [score for _, score in got] == pytest.approx([s for _, s in want], abs=1e-5)
    # 50 requests x 4 documents (+ the warm-up pair) went through fewer, larger batches.
    assert pairs == 50 * len(DOCS) + 1
    assert batches < 50
