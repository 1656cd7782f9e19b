"""Scoring engines behind one protocol (see base.py)."""

from __future__ import annotations

from rerankd.backends.base import ModelInfo, ScoringBackend
from rerankd.loading import ModelSource


def load_backend(
    source: ModelSource, *, backend: str = "transformers", device: str | None = None,
    dtype: str | None = None, quantize: str | None = None, reuse_prefix: bool = True,
) -> ScoringBackend:
    """Build the named engine over a model already on disk."""
    if backend == "transformers":
        from rerankd.backends.transformers import TransformersBackend

        return TransformersBackend(
            source, device=device, dtype=dtype, quantize=quantize, reuse_prefix=reuse_prefix
        )
    raise ValueError(f"unknown backend {backend!r}; available: transformers")


__all__ = ["ModelInfo", "ScoringBackend", "load_backend"]
