"""Long documents and rich inputs through the HTTP dialects."""

from __future__ import annotations

import pytest

from tests.integration.server_harness import GatedBackend, running_server

LONG = " ".join(f"Sentence {i} is about subject {i % 7}." for i in range(400))
HEADER = "x-rerankd-truncated-documents"


@pytest.fixture(scope="module")
def server(reranker):
    with running_server(reranker.backend, max_length=256) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with server.client() as client:
        yield client


def test_max_tokens_per_doc_is_reported_per_result_in_meta_and_header(http):
    reply = http.post("/v2/rerank", json={
        "query": "subject 3", "documents": ["short", LONG], "max_tokens_per_doc": 50,
    })
    body = reply.json()
    flags = {item["index"]: item.get("truncated", False) for item in body["results"]}
    assert flags == {0: False, 1: True}
    assert "documents 1 were longer" in body["meta"]["warnings"][0]
    assert reply.headers[HEADER] == "1"


def test_chunked_documents_name_their_best_passage(http):
    reply = http.post("/v1/rerank", json={
        "query": "subject 3", "documents": [LONG, "short"], "max_chunks_per_doc": 50,
    })
    item = next(r for r in reply.json()["results"] if r["index"] == 0)
    assert "truncated" not in item and HEADER not in reply.headers
    start, end = item["passage"]["start"], item["passage"]["end"]
    assert 0 <= start < end <= len(LONG)
    seed = http.post("/rerank", json={
        "query": "subject 3", "documents": [LONG], "long_docs": "chunk", "max_chunks_per_doc": 50,
    }).json()["results"][0]
    assert seed["passage"] == item["passage"]
    assert seed["relevance_score"] == pytest.approx(item["relevance_score"], abs=1e-6)


def test_rank_fields_score_several_fields_and_return_documents_untouched(http, reranker):
    documents = [
        {"title": "Beijing", "body": "The capital of China.", "id": 1},
        {"title": "Bananas", "body": "A yellow fruit.", "id": 2},
    ]
    reply = http.post("/v1/rerank", json={
        "query": "capital", "documents": documents, "rank_fields": ["title", "body"],
    }).json()
    expected = reranker.rank("capital", [
        "title: Beijing\nbody: The capital of China.", "title: Bananas\nbody: A yellow fruit.",
    ])
    assert [r["index"] for r in reply["results"]] == [r.index for r in expected]
    assert reply["results"][0]["relevance_score"] == pytest.approx(
        expected[0].relevance_score, abs=1e-5
    )
    assert all(r["document"] == documents[r["index"]] for r in reply["results"])
    missing = http.post("/v1/rerank", json={
        "query": "q", "documents": [{"other": "x"}], "rank_fields": ["title"],
    })
    assert missing.status_code == 422 and "rank_fields" in missing.json()["message"]
    no_text = http.post("/v1/rerank", json={"query": "q", "documents": [{"title": "x"}]})
    assert no_text.status_code == 422 and "text" in no_text.json()["message"]


def test_a_long_query_is_cut_or_refused_as_asked(http):
    query = "subject " * 300
    refused = http.post("/v2/rerank", json={
        "query": query, "documents": ["d"], "max_tokens_per_query": 10, "on_overflow": "error",
    })
    assert refused.status_code == 422 and "max_tokens_per_query" in refused.json()["message"]
    cut = http.post("/v2/rerank", json={
        "query": query, "documents": ["d"], "max_tokens_per_query": 10,
    })
    assert cut.status_code == 200


def test_two_50k_token_documents_stay_within_the_batch_budget(reranker):
    huge = ["word " * 50_000, "token " * 50_000]
    gated = GatedBackend(reranker.backend)
    with running_server(gated, max_length=512, max_batch_tokens=2048, long_docs="chunk",
                        max_chunks_per_doc=200) as server, server.client() as http:
        reply = http.post("/v2/rerank", json={"query": "words", "documents": huge})
        assert reply.status_code == 200
        assert all("passage" in item for item in reply.json()["results"])
    scored = [batch for batch in gated.batches if len(batch[0]) > 100]
    assert sum(len(batch) for batch in scored) >= 2 * 100  # ~110 windows per document
    for batch in gated.batches:
        assert len(batch) * max(len(prompt) for prompt in batch) <= 2048


def test_the_server_default_can_chunk(reranker):
    with running_server(reranker.backend, max_length=256, long_docs="chunk") as server, \
            server.client() as http:
        item = http.post("/rerank", json={"query": "q", "documents": [LONG]}).json()["results"][0]
        assert "passage" in item
        cut = http.post("/rerank", json={"query": "q", "documents": [LONG],
                                         "long_docs": "truncate"}).json()["results"][0]
        assert cut["truncated"] and "passage" not in cut
