"""The contract every scoring engine fulfils.

A backend turns finished prompts (token ids, template applied, already truncated) into
relevance probabilities. Everything above it (template, batching, cache, API) is the same
for every engine, so a new engine touches only this folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from rerankd.prompts import Prompt, PromptBuilder, TextTokenizer


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is, for /v1/models, cache keys and logs."""

    model_id: str
    revision: str
    architecture: str
    device: str
    dtype: str


class ScoringBackend(Protocol):
    """Scores prompts. Implementations must be safe to call from one worker thread."""

    info: ModelInfo
    tokenizer: TextTokenizer

    def prompt_builder(self, max_length: int) -> PromptBuilder:
        """The model's prompt format, capped at ``max_length`` (and the model's own limit)."""
        ...

    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        """A relevance score in [0, 1] for each prompt, in order, whatever the batch holds."""
        ...


@runtime_checkable
class ContinuousBatchingBackend(ScoringBackend, Protocol):
    """A backend whose engine batches across requests itself (vLLM's continuous batching
    and prefix caching). The server hands it each request's prompts as they come instead
    of forming batches of its own."""

    async def score_prompts_async(self, prompts: Sequence[Prompt]) -> list[float]:
        """As ``score_prompts``, awaited from any event loop; cancelling it drops the
        prompts from the engine."""
        ...
