"""Encoder engines on transformers: cross-encoders (e.g. bge-reranker) and bi-encoders
(e.g. all-MiniLM-L6-v2). Unlike Qwen3's causal attention, an encoder attends both ways,
so padding needs an attention mask."""

from __future__ import annotations

import json
from collections.abc import Sequence

import torch

from rerankd.backends.base import ModelInfo
from rerankd.backends.detect import architecture_of, read_config
from rerankd.backends.hardware import dtype_name, resolve_device, resolve_dtype
from rerankd.config import ModelConfig
from rerankd.families.encoders import CrossEncoderPairs, SeparateTexts
from rerankd.loading import ModelSource
from rerankd.prompts import Prompt, TextTokenizer

LARGEST_SANE_LENGTH = 1_000_000  # tokenizers without a limit report about 1e30


class _EncoderBase:
    def __init__(self, source: ModelSource, config: ModelConfig) -> None:
        from transformers import AutoTokenizer

        self.device = resolve_device(config.device)
        self.dtype = resolve_dtype(config.dtype, self.device)
        self.config = read_config(source)
        hf_tokenizer = AutoTokenizer.from_pretrained(source.path)
        self.tokenizer = TextTokenizer.from_hf(hf_tokenizer)
        self.pad_id = int(hf_tokenizer.pad_token_id or 0)
        limits = [int(self.config.get("max_position_embeddings", 512))]
        if 0 < hf_tokenizer.model_max_length < LARGEST_SANE_LENGTH:
            limits.append(int(hf_tokenizer.model_max_length))
        self.model_max_length = min(limits)
        self.info = ModelInfo(
            model_id=source.model_id, revision=source.revision,
            architecture=architecture_of(self.config), device=str(self.device),
            dtype=dtype_name(self.dtype),
        )

    def _padded(
        self, sequences: Sequence[Sequence[int]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(sequence) for sequence in sequences)
        input_ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            input_ids[row, : len(sequence)] = torch.tensor(sequence)
            mask[row, : len(sequence)] = 1
        return input_ids.to(self.device), mask.to(self.device)


class CrossEncoderBackend(_EncoderBase):
    """A sequence classifier over (query, document) pairs: sigmoid of the single logit,
    or the softmax probability of label 1 when there are two labels."""

    def __init__(self, source: ModelSource, config: ModelConfig) -> None:
        from transformers import AutoModelForSequenceClassification

        super().__init__(source, config)
        self.model = AutoModelForSequenceClassification.from_pretrained(
            source.path, dtype=self.dtype
        ).to(self.device).eval()
        self.num_labels = int(self.model.config.num_labels)
        self.uses_token_types = int(self.config.get("type_vocab_size", 0) or 0) > 1

    def prompt_builder(self, max_length: int) -> CrossEncoderPairs:
        return CrossEncoderPairs(self.tokenizer, max_length, self.model_max_length)

    @torch.inference_mode()
    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        if not prompts:
            return []
        input_ids, mask = self._padded([prompt.ids for prompt in prompts])
        inputs = {"input_ids": input_ids, "attention_mask": mask}
        if self.uses_token_types:
            token_types = torch.zeros_like(input_ids)
            for row, prompt in enumerate(prompts):
                token_types[row, len(prompt.shared) : len(prompt)] = 1
            inputs["token_type_ids"] = token_types
        logits = self.model(**inputs).logits.float()
        if self.num_labels == 1:
            scores = torch.sigmoid(logits[:, 0])
        else:
            scores = torch.softmax(logits, dim=-1)[:, 1]
        result: list[float] = scores.tolist()
        return result


class BiEncoderBackend(_EncoderBase):
    """Embeds query and document apart (sentence-transformers pooling) and maps their
    cosine similarity to [0, 1] as (cos + 1) / 2: 1 is the same direction, 0.5 unrelated.
    """

    def __init__(self, source: ModelSource, config: ModelConfig) -> None:
        from transformers import AutoModel

        super().__init__(source, config)
        self.model = AutoModel.from_pretrained(source.path, dtype=self.dtype).to(
            self.device
        ).eval()
        self.pooling = _pooling_mode(source)
        sentence_config = source.path / "sentence_bert_config.json"
        if sentence_config.exists():
            limit = json.loads(sentence_config.read_text()).get("max_seq_length")
            if isinstance(limit, int) and limit > 0:
                self.model_max_length = min(self.model_max_length, limit)

    def prompt_builder(self, max_length: int) -> SeparateTexts:
        return SeparateTexts(self.tokenizer, max_length, self.model_max_length)

    @torch.inference_mode()
    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        if not prompts:
            return []
        texts = list(dict.fromkeys([p.shared for p in prompts] + [p.own for p in prompts]))
        row_of = {text: row for row, text in enumerate(texts)}
        embeddings = self._embed(texts)
        queries = embeddings[[row_of[p.shared] for p in prompts]]
        documents = embeddings[[row_of[p.own] for p in prompts]]
        cosine = (queries * documents).sum(dim=-1)
        result: list[float] = ((cosine + 1) / 2).clamp(0, 1).tolist()
        return result

    def _embed(self, texts: Sequence[Sequence[int]]) -> torch.Tensor:
        input_ids, mask = self._padded(texts)
        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask.unsqueeze(-1).float()
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)


def _pooling_mode(source: ModelSource) -> str:
    pooling_config = source.path / "1_Pooling" / "config.json"
    if pooling_config.exists():
        config = json.loads(pooling_config.read_text())
        if config.get("pooling_mode_cls_token"):
            return "cls"
    return "mean"
