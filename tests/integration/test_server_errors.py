"""Every error a user can cause gets a 4xx in its dialect's shape; the server keeps serving."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from rerankd.config import Settings
from rerankd.server import create_app
from tests.integration.server_harness import (
    ContinuousGatedBackend,
    GatedBackend,
    request_then_leave,
    running_app,
    running_server,
)

DOCS = ["Beijing is the capital of China.", "Bananas are yellow."]


@pytest.fixture(scope="module")
def server(reranker):
    with running_server(reranker.backend, max_documents=5, max_body_bytes=20_000) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with server.client() as client:
        yield client


def message_of(path: str, body) -> str:
    """The error shape clients parse: on the rerank paths one body with TEI's error and
    error_type (Haystack), Cohere's message and the detail that Jina clients and
    xinference-client read, all the same text; OpenAI's elsewhere."""
    if path.endswith("/rerank"):
        assert set(body) == {"error", "error_type", "message", "detail"}
        assert body["error"] == body["message"] == body["detail"]
        return body["detail"]
    return body["error"]["message"]


RERANK_PATHS = ["/rerank", "/v1/rerank", "/v2/rerank"]


@pytest.mark.parametrize("path", RERANK_PATHS)
@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({"query": "", "documents": DOCS}, 422, "query must not be empty"),
        ({"query": "   ", "documents": DOCS}, 422, "query must not be empty"),
        ({"query": "q", "documents": []}, 422, "documents"),
        ({"documents": DOCS}, 422, "query: Field required"),
        ({"query": 5, "documents": DOCS}, 422, "query"),
        ({"query": "q", "documents": "not a list"}, 422, "documents"),
        ({"query": "q", "documents": [1, 2]}, 422, "documents.0"),
        ({"query": "q", "documents": DOCS, "top_n": -1}, 422, "top_n"),
        ({"query": "q", "documents": DOCS * 3}, 422, "at most 5"),
        ({"query": "q", "documents": ["x" * 30_000]}, 413, "over the limit"),
        ({"query": "q\ud800", "documents": DOCS}, 422, "unpaired surrogate"),
        ({"query": "q", "documents": ["ok", "\udfff"]}, 422, "documents[1] contains"),
    ],
)
def test_bad_requests_get_a_readable_4xx(http, path, payload, status, fragment):
    # ASCII JSON, so that lone surrogates travel as "\ud800" escapes, as JSON allows.
    reply = http.post(path, content=json.dumps(payload),
                      headers={"content-type": "application/json"})
    assert reply.status_code == status, reply.text
    assert fragment in message_of(path, reply.json())
    assert "Traceback" not in reply.text


@pytest.mark.parametrize("path", RERANK_PATHS)
def test_top_n_0_means_all_as_in_vllm(http, path):
    reply = http.post(path, json={"query": "q", "documents": DOCS, "top_n": 0})
    assert reply.status_code == 200, reply.text
    results = reply.json() if isinstance(reply.json(), list) else reply.json()["results"]
    assert sorted(item["index"] for item in results) == list(range(len(DOCS)))


@pytest.mark.parametrize("path", [*RERANK_PATHS, "/score"])
def test_invalid_json_is_a_400(http, path):
    reply = http.post(path, content=b'{"query": "q", "documents": [', headers={
        "content-type": "application/json"
    })
    assert reply.status_code == 400
    assert "not valid JSON" in message_of(path, reply.json())


def test_a_form_body_is_told_to_send_json(http):
    reply = http.post("/rerank", data={"query": "q"})
    assert reply.status_code == 400
    assert "Content-Type: application/json" in message_of("/rerank", reply.json())


def test_a_body_without_a_content_type_is_read_as_json(http):
    reply = http.post("/v1/rerank", content=b'{"query": "q", "documents": ["d"]}')
    assert "content-type" not in reply.request.headers
    assert reply.status_code == 200 and reply.json()["results"][0]["index"] == 0
    empty = http.post("/v1/rerank", content=b"")
    assert empty.status_code == 400
    assert "Content-Type: application/json" in message_of("/v1/rerank", empty.json())


def test_seed_and_tei_fields_together_are_refused(http):
    reply = http.post("/rerank", json={"query": "q", "documents": DOCS, "texts": DOCS})
    assert reply.status_code == 422
    assert "either `documents` or `texts`" in message_of("/rerank", reply.json())


def test_unknown_route_and_method(http):
    assert http.get("/nope").status_code == 404
    assert http.get("/rerank").status_code == 405


def test_the_server_still_serves_after_all_that(http):
    assert http.post("/rerank", json={"query": "q", "documents": DOCS}).status_code == 200


# Both ways prompts reach a model: rerankd's batches, or the engine's own continuous
# batching (vLLM), which gets each request's prompts as they come.
SCHEDULED_BACKENDS = pytest.mark.parametrize(
    "wrapper", [GatedBackend, ContinuousGatedBackend], ids=["batched", "continuous"]
)


@SCHEDULED_BACKENDS
def test_a_full_queue_answers_503_with_retry_after(reranker, wrapper):
    backend = wrapper(reranker.backend)
    with running_server(backend, max_queue_pairs=3, cache_size=0) as server, \
            server.client() as http:
        backend.gate.clear()
        backend.entered.clear()
        waiting = [
            threading.Thread(target=lambda q=q: httpx.post(
                server.url + "/v2/rerank", json={"query": q, "documents": DOCS}, timeout=60
            ))
            for q in ("first", "second")
        ]
        waiting[0].start()
        assert backend.entered.wait(timeout=30)  # the first request holds the model
        waiting[1].start()
        scheduler = server.app.state.engine.scheduler
        wait_until(lambda: scheduler.queue_depth >= 2)
        reply = http.post("/v2/rerank", json={"query": "third", "documents": DOCS})
        assert reply.status_code == 503
        assert int(reply.headers["retry-after"]) >= 1
        assert "queue is full" in reply.json()["message"]
        backend.gate.set()
        for thread in waiting:
            thread.join(timeout=60)
        assert http.post("/v2/rerank", json={"query": "q", "documents": DOCS}).status_code == 200


@SCHEDULED_BACKENDS
@pytest.mark.parametrize("path", ["/v2/rerank", "/score"])
def test_a_request_that_can_never_fit_the_queue_is_refused_with_the_limit(
    reranker, wrapper, path
):
    """On an idle server, more prompts than --max-queue-pairs would get 503 forever."""
    with running_server(wrapper(reranker.backend), max_queue_pairs=3) as server, \
            server.client() as http:
        four = ["one", "two", "three", "four"]
        body = {"query": "q", "documents": four} if path != "/score" else {
            "text_1": "q", "text_2": four}
        reply = http.post(path, json=body)
        assert reply.status_code == 422
        assert "retry-after" not in reply.headers
        assert "--max-queue-pairs" in message_of(path, reply.json())
        assert "3" in message_of(path, reply.json())


def test_a_request_over_its_time_limit_gets_504(reranker):
    gated = GatedBackend(reranker.backend)
    with running_server(gated, request_timeout=0.5) as server, server.client() as http:
        gated.gate.clear()
        reply = http.post("/rerank", json={"query": "slow", "documents": DOCS})
        assert reply.status_code == 504
        assert "longer than 0.5 s" in reply.json()["error"]
        gated.gate.set()
        assert http.post("/rerank", json={"query": "q", "documents": DOCS}).status_code == 200


@SCHEDULED_BACKENDS
def test_a_failing_batch_fails_only_its_request(reranker, wrapper):
    gated = wrapper(reranker.backend, fail_marker="POISON")
    with running_server(gated) as server, server.client() as http:
        failed = http.post("/v2/rerank", json={"query": "q", "documents": ["POISON pill"]})
        assert failed.status_code == 500
        assert message_of("/v2/rerank", failed.json()) == "internal error while scoring"
        assert "GPU" not in failed.text
        healthy = http.post("/v2/rerank", json={"query": "q", "documents": DOCS})
        assert healthy.status_code == 200


def test_a_client_that_disconnects_stops_its_pending_work(reranker):
    gated = GatedBackend(reranker.backend)
    with running_server(gated, cache_size=0) as server:
        gated.gate.clear()
        gated.entered.clear()
        holder = threading.Thread(target=lambda: httpx.post(
            server.url + "/rerank", json={"query": "first", "documents": DOCS}, timeout=60
        ))
        holder.start()
        assert gated.entered.wait(timeout=30)  # the first request holds the model
        scheduler = server.app.state.engine.scheduler
        body = b'{"query": "leaver", "documents": ["a document nobody waits for"]}'
        with request_then_leave(server, "/rerank", body):
            wait_until(lambda: scheduler.queue_depth == 1)
        wait_until(lambda: scheduler.queue_depth == 0)  # the leaver's pair was dropped
        gated.gate.set()
        holder.join(timeout=60)
        with server.client() as http:
            assert http.post("/rerank", json={"query": "q", "documents": DOCS}).status_code == 200
        leaver = tuple(gated.tokenizer.text_ids(" a document nobody waits for"))
        assert gated.seen and not any(p.own[: len(leaver)] == leaver for p in gated.seen)


def test_shutdown_finishes_in_flight_requests(reranker):
    gated = GatedBackend(reranker.backend)
    replies: list[httpx.Response] = []
    with running_server(gated) as server:
        gated.gate.clear()
        gated.entered.clear()
        sender = threading.Thread(target=lambda: replies.append(httpx.post(
            server.url + "/rerank", json={"query": "in flight", "documents": DOCS}, timeout=60
        )))
        sender.start()
        assert gated.entered.wait(timeout=30)
        server.server.should_exit = True  # what SIGTERM does
        gated.gate.set()
        sender.join(timeout=60)
    assert replies and replies[0].status_code == 200
    assert len(replies[0].json()["results"]) == len(DOCS)


class ClosableBackend(GatedBackend):
    """A backend with processes of its own to stop, as vLLM has."""

    closed = False

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("owns_backend", [True, False])
def test_shutdown_closes_the_backend_only_when_the_app_owns_it(reranker, owns_backend):
    backend = ClosableBackend(reranker.backend)
    app = create_app(Settings.from_mapping({"max_length": 512}), backend,
                     owns_backend=owns_backend)
    with running_app(app, ready=app.state.ready.is_set) as server, server.client() as http:
        assert http.post("/rerank", json={"query": "q", "documents": DOCS}).status_code == 200
        assert not backend.closed
    assert backend.closed is owns_backend


def wait_until(condition, timeout_s: float = 30.0) -> None:
    """Bounded wait on server-side state the test cannot await directly."""
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


class BrokenBackend(GatedBackend):
    """A backend that loads but cannot score (say its weights are corrupt)."""

    def score_prompts(self, prompts):
        raise RuntimeError("weights are corrupt")


def test_a_backend_that_fails_its_warm_up_stops_the_server(reranker, caplog):
    """Not a server that answers 503 for good: it stops, with the error and a non-zero
    exit, as `rerankd serve` returns from serve_http."""
    import logging

    from rerankd.server import serve_http
    from tests.integration.server_harness import free_port

    settings = Settings.from_mapping({"host": "127.0.0.1", "port": free_port()})
    app = create_app(settings, BrokenBackend(reranker.backend))
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as exited:
        serve_http(app, settings.server)
    assert exited.value.code != 0
    assert "the model failed its warm-up, so the server stops" in caplog.text
    assert "RuntimeError: weights are corrupt" in caplog.text
