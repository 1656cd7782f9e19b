"""With an API key, every route but /health needs it."""

from __future__ import annotations

import cohere
import pytest

from rerankd.config import Settings
from rerankd.errors import ConfigError
from tests.integration.server_harness import running_server

KEY = "s3cret-key-for-tests"
GUARDED = [
    ("POST", "/rerank", {"query": "q", "documents": ["d"]}),
    ("POST", "/v1/rerank", {"query": "q", "documents": ["d"]}),
    ("POST", "/v2/rerank", {"query": "q", "documents": ["d"]}),
    ("POST", "/score", {"text_1": "q", "text_2": ["d"]}),
    ("POST", "/v1/score", {"text_1": "q", "text_2": ["d"]}),
    ("GET", "/v1/models", None),
    ("GET", "/metrics", None),
    ("GET", "/docs", None),
    ("GET", "/openapi.json", None),
]


@pytest.fixture(scope="module")
def server(reranker):
    with running_server(reranker.backend, api_key=KEY) as running:
        yield running


@pytest.mark.parametrize(("method", "path", "body"), GUARDED)
def test_every_route_but_health_needs_the_key(server, method, path, body):
    with server.client() as http:
        missing = http.request(method, path, json=body)
        wrong = http.request(method, path, json=body, headers={"Authorization": "Bearer nope"})
        right = http.request(method, path, json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert missing.status_code == 401 and wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert KEY not in missing.text + wrong.text
    assert right.status_code == 200


def test_health_is_open(server):
    with server.client() as http:
        assert http.get("/health").status_code == 200


def test_the_root_says_where_things_are_when_the_docs_need_the_key(server):
    """A browser cannot send the key, so / does not lead it to a 401 at /docs."""
    with server.client() as http:
        home = http.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert "Authorization: Bearer" in home.json()["message"]
    assert KEY not in home.text and "results" not in home.text


def test_the_cohere_sdk_sends_its_key(server):
    good = cohere.ClientV2(api_key=KEY, base_url=server.url)
    assert len(good.rerank(model="m", query="q", documents=["a", "b"]).results) == 2
    with pytest.raises(cohere.errors.UnauthorizedError):
        cohere.ClientV2(api_key="wrong", base_url=server.url).rerank(
            model="m", query="q", documents=["a"]
        )


def key_from(values: dict, environ: dict) -> str | None:
    return Settings.from_mapping(values, environ).server.resolved().api_key


def test_key_sources(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    assert key_from({"api_key": "explicit"}, {"RERANKD_API_KEY": "from-env"}) == "explicit"
    assert key_from({}, {"RERANKD_API_KEY": "from-env"}) == "from-env"
    assert key_from({"api_key_file": str(key_file)}, {}) == "from-file"
    assert key_from({}, {"RERANKD_API_KEY_FILE": str(key_file)}) == "from-file"
    assert key_from({}, {}) is None
    # Two keys at once is a mistake to name, not a choice to make silently.
    with pytest.raises(ConfigError, match="not both"):
        key_from({"api_key_file": str(key_file)}, {"RERANKD_API_KEY": "from-env"})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        key_from({"api_key_file": str(empty)}, {})
