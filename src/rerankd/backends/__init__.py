"""Scoring engines behind one protocol (see base.py)."""

from __future__ import annotations

from typing import Any

from rerankd.backends.base import (
    ContinuousBatchingBackend,
    ModelInfo,
    PromptBuilder,
    ScoringBackend,
)
from rerankd.backends.detect import model_kind
from rerankd.loading import ModelSource

BACKENDS = ("transformers", "vllm", "auto")


def load_backend(
    source: ModelSource, *, backend: str = "transformers", device: str | None = None,
    dtype: str | None = None, quantize: str | None = None, reuse_prefix: bool = True,
    vllm_options: dict[str, Any] | None = None,
) -> ScoringBackend:
    """Build the named engine over a model already on disk; the model's config.json says
    which kind of model it is. ``auto``: vLLM when it and CUDA are present."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    kind = model_kind(source)
    if backend == "auto":
        backend = "vllm" if kind == "qwen3-reranker" and _vllm_on_gpu() else "transformers"
    if backend == "vllm":
        from rerankd.backends.vllm import VllmBackend

        return VllmBackend(source, dtype=dtype, quantization=quantize, **(vllm_options or {}))
    if kind == "qwen3-reranker":
        from rerankd.backends.transformers import TransformersBackend

        return TransformersBackend(
            source, device=device, dtype=dtype, quantize=quantize, reuse_prefix=reuse_prefix
        )
    if quantize is not None:
        raise ValueError(f"quantization is available for Qwen3 rerankers, not a {kind}")
    from rerankd.backends.encoders import BiEncoderBackend, CrossEncoderBackend

    if kind == "cross-encoder":
        return CrossEncoderBackend(source, device=device, dtype=dtype)
    return BiEncoderBackend(source, device=device, dtype=dtype)


def _vllm_on_gpu() -> bool:
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


__all__ = [
    "ContinuousBatchingBackend", "ModelInfo", "PromptBuilder", "ScoringBackend", "load_backend",
]
