"""Scoring engines behind one protocol (see base.py)."""

from __future__ import annotations

from rerankd.backends.base import ContinuousBatchingBackend, ModelInfo, ScoringBackend
from rerankd.backends.detect import model_kind
from rerankd.config import ModelConfig
from rerankd.loading import ModelSource


def load_backend(
    source: ModelSource, config: ModelConfig | None = None, *, max_length: int | None = None,
    reuse_prefix: bool = True,
) -> ScoringBackend:
    """Build the configured backend over a model already on disk; the model's config.json
    says which kind of model it is. ``auto``: vLLM when it and CUDA are present.
    ``max_length``: the longest prompt it will get (vLLM's context length unless
    ``max_model_len`` says otherwise)."""
    config = config or ModelConfig()
    kind = model_kind(source)
    backend = config.backend
    if backend == "auto":
        backend = "vllm" if kind == "qwen3-reranker" and _vllm_on_gpu() else "transformers"
    if backend == "vllm":
        from rerankd.backends.vllm import VllmBackend

        return VllmBackend(source, config, max_model_len=config.max_model_len or max_length)
    if kind == "qwen3-reranker":
        from rerankd.backends.transformers import TransformersBackend

        return TransformersBackend(source, config, reuse_prefix=reuse_prefix)
    if config.quantize is not None:
        raise ValueError(f"quantization is available for Qwen3 rerankers, not a {kind}")
    from rerankd.backends.encoders import BiEncoderBackend, CrossEncoderBackend

    if kind == "cross-encoder":
        return CrossEncoderBackend(source, config)
    return BiEncoderBackend(source, config)


def _vllm_on_gpu() -> bool:
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


__all__ = ["ContinuousBatchingBackend", "ModelInfo", "ScoringBackend", "load_backend"]
