"""Scoring engines behind one protocol (see base.py)."""

from __future__ import annotations

from rerankd.backends.base import ModelInfo, PromptBuilder, ScoringBackend
from rerankd.backends.detect import model_kind
from rerankd.loading import ModelSource


def load_backend(
    source: ModelSource, *, backend: str = "transformers", device: str | None = None,
    dtype: str | None = None, quantize: str | None = None, reuse_prefix: bool = True,
) -> ScoringBackend:
    """Build the named engine over a model already on disk; the model's config.json says
    which kind of model it is."""
    if backend != "transformers":
        raise ValueError(f"unknown backend {backend!r}; available: transformers")
    kind = model_kind(source)
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


__all__ = ["ModelInfo", "PromptBuilder", "ScoringBackend", "load_backend"]
