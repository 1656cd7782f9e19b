"""One Settings object for the server, built once (from the CLI) and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rerankd.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS
from rerankd.loading import DEFAULT_MODEL
from rerankd.ranking import DEFAULT_MAX_CHUNKS, ChunkAggregate, LongDocs
from rerankd.template import DEFAULT_MAX_LENGTH

API_KEY_ENV = "RERANKD_API_KEY"


@dataclass(frozen=True)
class Settings:
    # model
    model: str = DEFAULT_MODEL
    hub: str = "huggingface"
    revision: str | None = None
    backend: str = "transformers"
    device: str | None = None
    dtype: str | None = None
    max_length: int = DEFAULT_MAX_LENGTH
    served_model_name: str | None = None
    model_notice: str | None = None  # shown in /health and the UI, e.g. on fallback
    # batching and cache
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    batch_wait_ms: float = 2.0
    max_queue_pairs: int = 20_000
    cache_size: int = 100_000
    cache_url: str | None = None  # redis://... : one cache shared by every replica
    # long documents
    long_docs: LongDocs = "truncate"
    max_chunks_per_doc: int = DEFAULT_MAX_CHUNKS
    chunk_aggregate: ChunkAggregate = "max"
    max_tokens_per_doc: int | None = None
    max_tokens_per_query: int | None = None
    # limits
    max_documents: int = 1000
    max_body_bytes: int = 32 * 1024 * 1024
    request_timeout_s: float = 300.0
    # HTTP
    host: str = "0.0.0.0"
    port: int = 8000
    api_key: str | None = field(default=None, repr=False)  # never printed

    @property
    def model_name(self) -> str:
        """The name clients see in `model` fields and /v1/models."""
        return self.served_model_name or self.model


def read_api_key(explicit: str | None, key_file: str | None, environ: dict[str, str]) -> str | None:
    """The API key from --api-key, else --api-key-file, else $RERANKD_API_KEY."""
    if explicit:
        return explicit
    if key_file:
        key = Path(key_file).read_text(encoding="utf-8").strip()
        if not key:
            raise ValueError(f"the API key file {key_file} is empty")
        return key
    return environ.get(API_KEY_ENV) or None
