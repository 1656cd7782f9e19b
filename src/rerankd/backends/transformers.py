"""The transformers/torch backend for Qwen3-Reranker; the score is always computed in fp32.

transformers loads the checkpoint (causal LM, or its seq-cls conversion); the decoder then
runs as a packed, variable-length forward over its weights (packed_decoder.py): no
padding, the shared prefix (system prompt, instruction, query) once per request with its
keys and values reused by every document, and the last layer for the last token only.
The hidden state of each prompt's last token meets the folded yes/no direction: the LM
head over the vocabulary is never computed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch

from rerankd.backends.base import ModelInfo
from rerankd.backends.detect import architecture_of, read_config
from rerankd.backends.hardware import dtype_name, resolve_device, resolve_dtype, tune_allocator
from rerankd.backends.packed_decoder import Document, PackedDecoder, PrefixKV
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

# Keys and values of this many prefix tokens are kept (about 115 MB in bf16, 230 MB in
# fp32, for the 0.6B shape).
PREFIX_CACHE_TOKENS = 1024


class TransformersBackend:
    """Qwen3-Reranker (causal LM or converted seq-cls checkpoint) on torch.

    ``reuse_prefix=False`` runs every prompt from its first token: the plain path the
    prefix reuse is checked against.
    """

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
        architecture = architecture_of(read_config(source))
        self.tokenizer = TextTokenizer.from_hf(AutoTokenizer.from_pretrained(source.path))
        if architecture.endswith("ForCausalLM"):
            model = AutoModelForCausalLM.from_pretrained(source.path, dtype=self.dtype)
            direction = yes_no_direction(
                model.get_output_embeddings().weight,
                self.tokenizer.token_id(YES_TOKEN), self.tokenizer.token_id(NO_TOKEN),
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
        if self.device.type == "cpu":
            tune_allocator()
        self.decoder = PackedDecoder(
            model.base_model, self.dtype, self.device, quantize=config.quantize,
            compile_steps=config.compile,
        )
        del model  # the decoder holds what it needs (an untied LM head is freed here)
        self.direction = direction.detach().to(self.device)
        self.reuse_prefix = reuse_prefix
        self.prefix_cache = PrefixCache(PREFIX_CACHE_TOKENS)
        self._lock = threading.Lock()  # one batch at a time, whoever calls
        self.info = ModelInfo(
            model_id=source.model_id,
            revision=source.revision,
            architecture=architecture,
            device=str(self.device),
            dtype=dtype_name(self.dtype) + (f"+{config.quantize}" if config.quantize else ""),
        )

    def prompt_builder(self, max_length: int) -> Qwen3RerankerPrompts:
        return Qwen3RerankerPrompts(self.tokenizer, max_length=max_length)

    @torch.inference_mode()
    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        """One packed forward for the whole batch, whatever prefixes its prompts have."""
        if not prompts:
            return []
        with self._lock:
            if self.reuse_prefix:
                documents = [
                    Document(self.prefix_cache.get(prompt.shared, self.decoder.prefix),
                             prompt.own)
                    for prompt in prompts
                ]
            else:
                empty = self.decoder.prefix(())
                documents = [Document(empty, prompt.ids) for prompt in prompts]
            states = self.decoder.last_states(documents)
            scores: list[float] = relevance(states, self.direction).tolist()
        return scores


class PrefixCache:
    """Keys and values of recent shared prefixes, bounded by their total token count.

    One request's documents often span several batches; its prefix is computed once.
    The newest entry is always kept, older ones go first when over the budget.
    """

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self._entries: OrderedDict[tuple[int, ...], PrefixKV] = OrderedDict()
        self._tokens = 0

    def get(
        self, shared: tuple[int, ...], compute: Callable[[tuple[int, ...]], PrefixKV]
    ) -> PrefixKV:
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
