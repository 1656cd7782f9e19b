"""Session-scoped random Qwen3-Reranker checkpoints with the real Qwen3 tokenizer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never reach a hub: a model that is not on disk must fail fast and clearly.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Qwen3ForCausalLM reranker, saved as a user's checkpoint would be."""
    from rerankd.bench.random_model import build_random_model

    return build_random_model(tmp_path_factory.mktemp("tiny-causal"), shape="tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_seq_cls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same weights converted to Qwen3ForSequenceClassification with one label."""
    from rerankd.bench.random_model import build_random_model

    return build_random_model(
        tmp_path_factory.mktemp("tiny-seq-cls"), shape="tiny", seed=0, seq_cls=True
    )


@pytest.fixture(scope="session")
def reranker(tiny_model_dir: Path):
    from rerankd import Reranker

    return Reranker(str(tiny_model_dir), max_length=512, dtype="float32")
