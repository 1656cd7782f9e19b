"""Which engine a checkpoint needs, read from its config.json (never from its name)."""

from __future__ import annotations

import json
from typing import Any, Literal

from rerankd.errors import UnsupportedModelError
from rerankd.loading import ModelSource

ModelKind = Literal["qwen3-reranker", "cross-encoder", "bi-encoder"]


def read_config(source: ModelSource) -> dict[str, Any]:
    config_file = source.path / "config.json"
    try:
        config = json.loads(config_file.read_text())
    except (OSError, ValueError) as exc:
        raise UnsupportedModelError(f"cannot read {config_file}: {exc}") from None
    if not isinstance(config, dict):
        raise UnsupportedModelError(f"{config_file} is not a JSON object")
    return config


def architecture_of(config: dict[str, Any]) -> str:
    architectures = config.get("architectures") or []
    return str(architectures[0]) if architectures else ""


def model_kind(source: ModelSource) -> ModelKind:
    """Qwen3 rerankers (causal LM or converted seq-cls) use the Qwen3 prompt; other
    sequence classifiers are cross-encoders; plain encoders are bi-encoders."""
    config = read_config(source)
    architecture = architecture_of(config)
    if config.get("model_type") == "qwen3" and architecture.endswith(
        ("ForCausalLM", "ForSequenceClassification")
    ):
        return "qwen3-reranker"
    if architecture.endswith("ForSequenceClassification"):
        return "cross-encoder"
    if (source.path / "modules.json").exists() or architecture.endswith("Model"):
        return "bi-encoder"
    raise UnsupportedModelError(
        f"{source.model_id} is a {architecture or 'model with no architecture'}; rerankd "
        "scores Qwen3-Reranker checkpoints (…ForCausalLM or …ForSequenceClassification), "
        "cross-encoders (…ForSequenceClassification) and sentence-transformers bi-encoders"
    )
