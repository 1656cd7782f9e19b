"""With no --model and no reachable Qwen3-Reranker, the server runs on the embedded model."""

from __future__ import annotations

import logging

import pytest

from rerankd.backends import load_backend
from rerankd.cli.serve import serving_model
from rerankd.errors import ModelUnavailableError
from rerankd.loading import DEFAULT_MODEL, EMBEDDED_MODEL_ID
from tests.integration.server_harness import running_server


@pytest.fixture
def no_hub(monkeypatch, tmp_path):
    """An empty Hugging Face cache, offline: the default model cannot be had."""
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))


def test_no_model_falls_back_to_the_embedded_model_loudly(no_hub, caplog):
    with caplog.at_level(logging.WARNING):
        source, notice = serving_model(None, "huggingface", None, logging.getLogger("test"))
    assert source.model_id == EMBEDDED_MODEL_ID
    assert notice is not None and DEFAULT_MODEL in notice and EMBEDDED_MODEL_ID in notice
    assert "WARNING" in caplog.text and EMBEDDED_MODEL_ID in caplog.text


def test_an_explicit_model_never_falls_back(no_hub):
    with pytest.raises(ModelUnavailableError, match=DEFAULT_MODEL):
        serving_model(DEFAULT_MODEL, "huggingface", None, logging.getLogger("test"))


def test_the_fallback_server_names_its_model_everywhere(no_hub):
    source, notice = serving_model(None, "huggingface", None, logging.getLogger("test"))
    backend = load_backend(source)
    with running_server(
        backend, served_model_name=source.model_id, notice=notice
    ) as server, server.client() as http:
        health = http.get("/health").json()
        assert health["model"] == EMBEDDED_MODEL_ID and DEFAULT_MODEL in health["notice"]
        assert http.get("/v1/models").json()["data"][0]["id"] == EMBEDDED_MODEL_ID
        reply = http.post("/v2/rerank", json={
            "query": "What is the capital of China?",
            "documents": ["Bananas are yellow.", "Beijing is the capital of China."],
        }).json()
        assert reply["model"] == EMBEDDED_MODEL_ID
        assert reply["results"][0]["index"] == 1
        assert http.post("/rerank", json={"query": "q", "documents": ["d"]}).json()[
            "model"
        ] == EMBEDDED_MODEL_ID
