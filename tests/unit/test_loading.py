"""Models load the way users expect, and fail with one clear message when they cannot."""

from __future__ import annotations

import json

import pytest

from rerankd import Reranker
from rerankd.errors import ModelUnavailableError, UnsupportedModelError
from rerankd.loading import resolve_model


def test_a_missing_hub_model_names_itself_where_it_looked_and_the_fixes(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelUnavailableError) as caught:
        resolve_model("Qwen/Qwen3-Reranker-0.6B")
    message = str(caught.value)
    assert "Qwen/Qwen3-Reranker-0.6B" in message
    assert str(tmp_path) in message and "HF_HUB_OFFLINE" in message
    assert "--model /path/to/model" in message and "--hub modelscope" in message


def test_a_missing_directory_is_reported_as_such():
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        resolve_model("./no/such/model")


def test_a_local_directory_gets_a_stable_revision(tiny_model_dir):
    first, second = resolve_model(str(tiny_model_dir)), resolve_model(str(tiny_model_dir))
    assert first.path == tiny_model_dir.resolve()
    assert first.revision == second.revision and first.revision.startswith("local-")


def test_an_unsupported_architecture_is_refused_clearly(tiny_model_dir, tmp_path):
    for file in tiny_model_dir.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    config = json.loads((tmp_path / "config.json").read_text())
    config["architectures"] = ["Qwen3ForTokenClassification"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(UnsupportedModelError, match="Qwen3ForTokenClassification"):
        Reranker(str(tmp_path))


def test_an_explicit_float32_is_kept(reranker):
    assert reranker.backend.info.device == "cpu"
    assert reranker.backend.info.dtype == "float32"
