"""What an outside probe of a running server found, each case against a real server: echoed
fields, limits on every route, bodies over the limit however sent, slow and idle
clients, shutdown with a stalled client, the UI before login, request ids."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from tests.integration.server_harness import running_server
from tests.integration.test_server_errors import message_of, wait_until

DOCS = ["Beijing is the capital of China.", "Bananas are yellow."]


@pytest.fixture(scope="module")
def server(reranker):
    with running_server(reranker.backend, max_documents=5, max_body_bytes=20_000,
                        read_timeout=1.0, cache_size=0) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with server.client() as client:
        yield client


def post_ascii_json(http: httpx.Client, path: str, payload) -> httpx.Response:
    """JSON with lone surrogates as "\\ud800" escapes, as JSON allows."""
    return http.post(path, content=json.dumps(payload),
                     headers={"content-type": "application/json"})


ECHOED = [
    {"text": "ok", "title": "\ud800"},
    {"text": "ok", "meta": {"tags": ["fine", "\udfff"]}},
    {"text": "ok", "\ud800": "a key"},
    {"text": "ok", "meta": {"\ud800": 1}},  # a nested key
    {"text": "ok", "a": [{"b": {"\udc00x": "y"}}]},
]


@pytest.mark.parametrize("path", ["/rerank", "/v1/rerank", "/v2/rerank"])
@pytest.mark.parametrize("document", ECHOED)
def test_a_lone_surrogate_in_any_echoed_field_is_a_422(http, path, document):
    payload = {"query": "q", "documents": [document, "plain"], "return_documents": True}
    reply = post_ascii_json(http, path, payload)
    assert reply.status_code == 422, reply.text
    assert "unpaired surrogate" in message_of(path, reply.json())
    assert http.get("/health").status_code == 200


@pytest.mark.parametrize("path", ["/rerank", "/v1/rerank", "/v2/rerank"])
def test_a_document_object_nested_too_deep_to_echo_is_a_422(http, path):
    """The JSON writer refuses about 255 levels when the document is echoed back."""
    for nested in ("[" * 300 + "1" + "]" * 300, '{"a":' * 40 + "1" + "}" * 40):
        body = '{"query": "q", "documents": [{"text": "ok", "m": ' + nested + "}]}"
        reply = http.post(path, content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 422, reply.text[:300]
        assert "deep" in message_of(path, reply.json())
    shallow = '{"query": "q", "documents": [{"text": "ok", "m": [[{"a": [1]}]]}]}'
    reply = http.post(path, content=shallow, headers={"content-type": "application/json"})
    assert reply.status_code == 200


def metric(http: httpx.Client, line_start: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.split()[-1])
    return 0.0


@pytest.mark.parametrize("path", ["/score", "/v1/score"])
def test_score_pairs_are_bounded_by_max_documents_before_any_work(http, path):
    scored_before = metric(http, "rerankd_pairs_scored_total")
    queries = [f"q{i}" for i in range(6)]
    zipped = http.post(path, json={"text_1": queries, "text_2": ["d"] * 6})
    assert zipped.status_code == 422
    assert "6 pairs in one request" in message_of(path, zipped.json())
    assert "at most 5" in message_of(path, zipped.json())
    one_to_many = http.post(path, json={"text_1": "q", "text_2": ["d"] * 6})
    assert one_to_many.status_code == 422
    assert metric(http, "rerankd_pairs_scored_total") == scored_before
    assert http.post(path, json={"text_1": queries[:5], "text_2": ["d"] * 5}).status_code == 200


def chunked(body: bytes, piece: int = 4096):
    for start in range(0, len(body), piece):
        yield body[start : start + piece]


@pytest.mark.parametrize("path", ["/rerank", "/v2/rerank", "/score"])
def test_a_chunked_body_over_the_limit_gets_413_like_a_declared_one(http, path):
    body = json.dumps({"query": "q", "documents": ["x" * 30_000]}).encode()
    declared = http.post(path, content=body, headers={"content-type": "application/json"})
    streamed = http.post(path, content=chunked(body),
                         headers={"content-type": "application/json"})
    assert "transfer-encoding" not in declared.request.headers
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    for reply in (declared, streamed):
        assert reply.status_code == 413
        assert "--max-body-bytes" in message_of(path, reply.json())
    small = json.dumps({"query": "q", "documents": DOCS}).encode()
    assert http.post("/rerank", content=chunked(small, 7),
                     headers={"content-type": "application/json"}).status_code == 200


def raw_connection(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.server.config.port), timeout=10)
    return sock


def read_until_closed(sock: socket.socket, limit_s: float = 10.0) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long it took."""
    started = time.monotonic()
    data = b""
    sock.settimeout(limit_s)
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError("the server kept the connection open") from None
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - started


def test_headers_over_64_kb_get_431(server, http):
    """Refused without waiting for their end; the rest of what the client sends may then
    meet a closed socket (a reset), but never an answer."""
    headers = b"".join(b"X-Padding-%d: %s\r\n" % (n, b"a" * 1000) for n in range(80))
    with raw_connection(server) as sock:
        data = b""
        try:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
            data, _ = read_until_closed(sock)
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert data == b"" or data.startswith(b"HTTP/1.1 431"), data[:200]
    big_but_fine = {"X-Padding": "a" * 30_000}
    assert http.get("/health", headers=big_but_fine).status_code == 200


def test_a_client_that_does_not_read_its_answers_is_cut_off(server, http):
    """Pipelined requests whose answers fill the socket buffers, never read: the server
    waits --read-timeout (1 s here) for the client to read, then drops the connection."""
    with raw_connection(server) as sock:
        request = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
        one_answer = len(http.get("/openapi.json").content)
        count = 20_000_000 // one_answer + 1  # far more than loopback buffers hold
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(request * min(count, 2000))
        time.sleep(4)
        data, _ = read_until_closed(sock)
    assert len(data) < one_answer * min(count, 2000)
    assert http.get("/health").status_code == 200


def test_a_connection_that_sends_nothing_is_closed(server):
    with raw_connection(server) as sock:
        data, waited = read_until_closed(sock)
    assert data == b"" and waited < 5


def test_headers_dribbled_byte_by_byte_are_cut_off_with_408(server):
    head = b"POST /rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with raw_connection(server) as sock:
        started = time.monotonic()
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.05)
            if time.monotonic() - started > 5:
                break
        data, _ = read_until_closed(sock)
    assert time.monotonic() - started < 8
    assert data.startswith(b"HTTP/1.1 408")


def test_a_body_dribbled_slowly_gets_408_and_the_server_serves_on(server, http):
    with raw_connection(server) as sock:
        sock.sendall(b"POST /v2/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 200\r\n\r\n{\"query\": ")
        data, waited = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408")
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert "--read-timeout" in message_of("/v2/rerank", body)
    assert waited < 5
    assert http.post("/v2/rerank", json={"query": "q", "documents": DOCS}).status_code == 200


def test_a_client_that_leaves_mid_body_is_counted_as_499(server, http):
    before = metric(http, 'rerankd_requests_total{route="/rerank",status="499"}')
    with raw_connection(server) as sock:
        sock.sendall(b"POST /rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 500\r\n\r\n{\"query\": \"q\"")
        time.sleep(0.2)
    wait_until(lambda: metric(
        http, 'rerankd_requests_total{route="/rerank",status="499"}') == before + 1)
    assert metric(http, 'rerankd_requests_total{route="/rerank",status="400"}') == 0


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123_DEF.4:5", True), ("score-<script>alert(1)</script>", False),
     ("x" * 65, False), ("with space", False), ("", False)],
)
def test_request_ids_are_echoed_only_when_they_look_like_ids(http, given, kept):
    reply = http.post("/score", json={"text_1": "q", "text_2": ["d"]},
                      headers={"x-request-id": given})
    echoed = reply.headers["x-request-id"]
    assert (echoed == given) is kept
    assert len(echoed) <= 64 and "<" not in reply.text
    assert reply.json()["id"] == f"score-{echoed}"


def test_shutdown_is_bounded_and_answers_a_stalled_client(reranker):
    """A client stalled mid-body (its body deadline far away) neither holds the shutdown
    past --shutdown-timeout nor gets the server's plain-text 500."""
    answers: list[bytes] = []
    with running_server(reranker.backend, read_timeout=120, shutdown_timeout=1) as server:
        sock = raw_connection(server)
        sock.sendall(b"POST /v2/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"query\"")
        reader = threading.Thread(target=lambda: answers.append(read_until_closed(sock, 30)[0]))
        reader.start()
        time.sleep(0.3)
        started = time.monotonic()
        server.server.should_exit = True  # what SIGTERM does
    stopped_in = time.monotonic() - started
    reader.join(timeout=30)
    sock.close()
    assert stopped_in < 10
    assert answers and answers[0].startswith(b"HTTP/1.1 503"), answers
    body = json.loads(answers[0].split(b"\r\n\r\n", 1)[1])
    assert "shutting down" in message_of("/v2/rerank", body)


@pytest.fixture(scope="module")
def ui_server(reranker):
    with running_server(reranker.backend, ui=True, api_key="ui-key",
                        max_body_bytes=1_000_000) as running:
        yield running


def test_before_login_the_ui_shows_nothing_of_gradio(ui_server):
    from rerankd.ui.app import EXAMPLE_QUERY

    with ui_server.client() as http:
        page = http.get("/ui/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/ui/login"
        login = http.get("/ui/login")
        assert login.status_code == 200 and "password" in login.text
        for path in ("/ui/", "/ui/login"):
            text = http.get(path).text
            assert "named_endpoints" not in text and EXAMPLE_QUERY not in text
            assert "/rank" not in text
        for path in ("/ui/config", "/ui/gradio_api/info"):
            assert http.get(path, follow_redirects=False).status_code in (303, 401)


def test_gradio_routes_refuse_a_large_body_before_reading_it(ui_server):
    """Unauthenticated: 401 from the headers alone (the body is never sent here), while
    the server keeps answering /health at once."""
    for path in ("/ui/gradio_api/queue/join", "/ui/gradio_api/call/v2/rank"):
        with raw_connection(ui_server) as sock:
            started = time.monotonic()
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {30 * 1024 * 1024}\r\n\r\n".encode()
            )
            data, _ = read_until_closed(sock)
            assert data.startswith(b"HTTP/1.1 401"), data[:200]
            assert time.monotonic() - started < 2
        health_started = time.monotonic()
        assert httpx.get(ui_server.url + "/health").status_code == 200
        assert time.monotonic() - health_started < 1


def rank_endpoint(http: httpx.Client) -> str:
    """The page's rank endpoint, as Gradio names it ("/rank"); its keyword-argument API
    is at call/v2/rank."""
    info = http.get("/ui/gradio_api/info")
    assert info.status_code == 200
    return next(name for name in info.json()["named_endpoints"] if name.endswith("rank"))


def test_after_login_the_pages_api_takes_missing_arguments(ui_server):
    with ui_server.client() as http:
        wrong = http.post("/ui/login", data={"username": "rerankd", "password": "nope"})
        assert wrong.status_code == 401 and "Wrong user or API key" in wrong.text
        logged_in = http.post("/ui/login", data={"username": "rerankd", "password": "ui-key"},
                              follow_redirects=False)
        assert logged_in.status_code == 303
        assert "httponly" in logged_in.headers["set-cookie"].lower()
        assert "ui-key" not in logged_in.headers["set-cookie"]
        rank = rank_endpoint(http)
        # The page's rank function through Gradio's API with only some of its arguments.
        for arguments in ({"query": "capital", "documents_text": "Beijing\nBananas"},
                          {"query": "capital"}, {}):
            call = http.post(f"/ui/gradio_api/call/v2{rank}", json=arguments)
            assert call.status_code == 200, call.text
            event = http.get(f"/ui/gradio_api/call/v2{rank}/{call.json()['event_id']}")
            assert event.status_code == 200
            assert "event: complete" in event.text, event.text[:500]


def test_the_pages_api_answers_a_wrong_call_with_a_422(ui_server):
    """Gradio's own route answers these with a plain-text 500 (KeyError, TypeError)."""
    with ui_server.client() as http:
        http.post("/ui/login", data={"username": "rerankd", "password": "ui-key"})
        rank = rank_endpoint(http)
        for path, arguments in ((f"/ui/gradio_api/call/v2{rank}", {"query": "q", "bogus": 1}),
                                ("/ui/gradio_api/call/v2/nonexistent", {}),
                                ("/ui/gradio_api/call/nonexistent", {"data": []}),
                                ("/ui/gradio_api/run/nonexistent", {"data": []})):
            reply = http.post(path, json=arguments)
            assert reply.status_code == 422, (path, reply.status_code, reply.text[:300])
            assert "endpoint name and its arguments" in reply.text
        assert http.get("/health").status_code == 200


def test_the_help_says_how_to_keep_the_key_out_of_ps(capsys):
    from rerankd.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Visible in `ps`: prefer --api-key-file or $RERANKD_API_KEY" in text
