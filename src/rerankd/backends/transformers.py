"""The transformers/torch backend for Qwen3-Reranker; the score is always computed in fp32.

It runs the decoder body only, reads the hidden state at each prompt's last token and
applies the folded yes/no direction: the LM head over the vocabulary is never computed.
Prompts are right-padded: with causal attention, real tokens never attend to the padding
after them, so no attention mask is needed and positions are the natural 0..n-1.

The part every document of a request shares (system prompt, instruction, query) runs
once per request; each document continues from its cached keys and values.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import torch

from rerankd.backends.base import ModelInfo
from rerankd.backends.detect import architecture_of, read_config
from rerankd.backends.hardware import dtype_name, resolve_device, resolve_dtype
from rerankd.config import ModelConfig
from rerankd.errors import UnsupportedModelError
from rerankd.families.qwen3 import (
    NO_TOKEN,
    YES_TOKEN,
    Qwen3RerankerPrompts,
    classifier_direction,
    relevance,
    yes_no_direction,
)
from rerankd.loading import ModelSource
from rerankd.prompts import Prompt, TextTokenizer

QUANTIZATIONS = ("int8", "int8-per-tensor")
# Keys and values of this many prefix tokens are kept (about 230 MB for the 0.6B shape).
PREFIX_CACHE_TOKENS = 1024


def quantize_linear_layers(body: Any, mode: str, device: torch.device) -> Any:
    """Dynamic int8 Linear layers (weights int8, activations quantized per batch), CPU only.

    The yes/no direction stays fp32 and the score is still computed in fp32.
    """
    if mode not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {mode!r}; choose from {', '.join(QUANTIZATIONS)}")
    if device.type != "cpu":
        raise ValueError("int8 dynamic quantization runs on CPU; on GPU use the vllm backend")
    quantization = torch.ao.quantization
    # One scale per output channel keeps each row's precision (per-tensor: one scale for all).
    qconfig = (
        quantization.default_dynamic_qconfig if mode == "int8-per-tensor"
        else quantization.per_channel_dynamic_qconfig
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao and quantized tensors are deprecated, not gone
        return quantization.quantize_dynamic(body, {torch.nn.Linear: qconfig}, dtype=torch.qint8)


class TransformersBackend:
    """Qwen3-Reranker (causal LM or converted seq-cls checkpoint) on torch."""

    def __init__(
        self, source: ModelSource, config: ModelConfig, *, reuse_prefix: bool = True
    ) -> None:
        from transformers import (
            AutoModelForCausalLM,
            AutoModelForSequenceClassification,
            AutoTokenizer,
        )

        self.device = resolve_device(config.device)
        self.dtype = resolve_dtype(config.dtype, self.device)
        quantize = config.quantize
        architecture = architecture_of(read_config(source))
        self.tokenizer = TextTokenizer.from_hf(AutoTokenizer.from_pretrained(source.path))
        if architecture.endswith("ForCausalLM"):
            model = AutoModelForCausalLM.from_pretrained(source.path, dtype=self.dtype)
            head = model.get_output_embeddings().weight
            direction = yes_no_direction(
                head, self.tokenizer.token_id(YES_TOKEN), self.tokenizer.token_id(NO_TOKEN)
            )
        elif architecture.endswith("ForSequenceClassification"):
            model = AutoModelForSequenceClassification.from_pretrained(
                source.path, dtype=self.dtype
            )
            direction = classifier_direction(model.score.weight)
        else:
            raise UnsupportedModelError(
                f"{source.model_id} is a {architecture}; rerankd's transformers backend scores "
                "Qwen3-Reranker checkpoints (…ForCausalLM or …ForSequenceClassification)"
            )
        # Keep the decoder body only: an untied LM head (4B/8B) is freed here.
        self.body = model.base_model.to(self.device).eval()
        self.reuse_prefix = reuse_prefix
        self.prefix_cache = PrefixCache(PREFIX_CACHE_TOKENS)
        if quantize is not None:
            self.body = quantize_linear_layers(self.body, quantize, self.device)
        self.direction = direction.to(self.device)
        self.pad_id = int(model.config.pad_token_id or model.config.eos_token_id or 0)
        self.info = ModelInfo(
            model_id=source.model_id,
            revision=source.revision,
            architecture=architecture,
            device=str(self.device),
            dtype=dtype_name(self.dtype) + (f"+{quantize}" if quantize else ""),
        )

    def prompt_builder(self, max_length: int) -> Qwen3RerankerPrompts:
        return Qwen3RerankerPrompts(self.tokenizer, max_length=max_length)

    @torch.inference_mode()
    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        if not self.reuse_prefix:
            return self._score_whole(prompts)
        scores = [0.0] * len(prompts)
        rows_by_shared: dict[tuple[int, ...], list[int]] = {}
        for row, prompt in enumerate(prompts):
            rows_by_shared.setdefault(prompt.shared, []).append(row)
        for shared, rows in rows_by_shared.items():
            group_scores = self._score_after_prefix(shared, [prompts[row].own for row in rows])
            for row, score in zip(rows, group_scores, strict=True):
                scores[row] = score
        return scores

    def _score_whole(self, prompts: Sequence[Prompt]) -> list[float]:
        """Each prompt run from its first token (the plain path)."""
        if not prompts:
            return []
        input_ids, last = self._right_padded([prompt.ids for prompt in prompts])
        hidden = self.body(input_ids=input_ids, use_cache=False).last_hidden_state
        return self._read_scores(hidden, last)

    def _score_after_prefix(
        self, shared: tuple[int, ...], owns: Sequence[tuple[int, ...]]
    ) -> list[float]:
        """The shared part (system prompt, instruction, query) runs once; every document
        continues from its keys and values. Same arithmetic as the plain path."""
        prefix = self.prefix_cache.get(shared, self._prefix_key_values)
        cache = frozen_prefix_cache(prefix, rows=len(owns))
        input_ids, last = self._right_padded(owns)
        hidden = self.body(input_ids=input_ids, past_key_values=cache, use_cache=True)
        return self._read_scores(hidden.last_hidden_state, last)

    def _prefix_key_values(self, shared: tuple[int, ...]) -> list[tuple[torch.Tensor, ...]]:
        ids = torch.tensor([shared], device=self.device)
        cache = self.body(input_ids=ids, use_cache=True).past_key_values
        return [(layer.keys, layer.values) for layer in cache.layers]

    def _right_padded(
        self, sequences: Sequence[Sequence[int]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = torch.tensor([len(sequence) for sequence in sequences])
        input_ids = torch.full(
            (len(sequences), int(lengths.max())), self.pad_id, dtype=torch.long
        )
        for row, sequence in enumerate(sequences):
            input_ids[row, : len(sequence)] = torch.tensor(sequence)
        return input_ids.to(self.device), (lengths - 1).to(self.device)

    def _read_scores(self, hidden: torch.Tensor, last: torch.Tensor) -> list[float]:
        rows = torch.arange(hidden.shape[0], device=self.device)
        scores: list[float] = relevance(hidden[rows, last], self.direction).tolist()
        return scores


def frozen_prefix_cache(prefix: list[tuple[torch.Tensor, ...]], rows: int) -> Any:
    """A transformers cache holding a shared prefix for ``rows`` documents that does not
    keep the documents' own keys and values: nothing reads them after this forward pass,
    and for a batch of long documents they would be the largest allocation (GBs)."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    class FrozenPrefixLayer(DynamicLayer):
        def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
            super().__init__()
            self.lazy_initialization(keys, values)
            self.keys = self.prefix_keys = keys
            self.values = self.prefix_values = values

        def update(
            self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
            **kwargs: Any,
        ) -> tuple[torch.Tensor, torch.Tensor]:
            return (
                torch.cat([self.prefix_keys, key_states], dim=-2),
                torch.cat([self.prefix_values, value_states], dim=-2),
            )

    layers: list[Any] = []
    for keys, values in prefix:
        layers.append(FrozenPrefixLayer(
            keys.expand(rows, -1, -1, -1), values.expand(rows, -1, -1, -1)
        ))
    cache = DynamicCache()
    cache.layers = layers
    return cache


class PrefixCache:
    """Keys and values of recent shared prefixes, bounded by their total token count.

    One request's documents often span several batches; its prefix is computed once.
    The newest entry is always kept, older ones go first when over the budget.
    """

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self._entries: OrderedDict[tuple[int, ...], list[tuple[torch.Tensor, ...]]] = (
            OrderedDict()
        )
        self._tokens = 0

    def get(
        self,
        shared: tuple[int, ...],
        compute: Callable[[tuple[int, ...]], list[tuple[torch.Tensor, ...]]],
    ) -> list[tuple[torch.Tensor, ...]]:
        entry = self._entries.get(shared)
        if entry is not None:
            self._entries.move_to_end(shared)
            return entry
        entry = compute(shared)
        self._entries[shared] = entry
        self._tokens += len(shared)
        while self._tokens > self.max_tokens and len(self._entries) > 1:
            evicted, _ = self._entries.popitem(last=False)
            self._tokens -= len(evicted)
        return entry
