"""The transformers/torch engine: CPU (fp32) or CUDA (bf16), score always in fp32.

It runs the decoder body only, reads the hidden state at each prompt's last token and
applies the folded yes/no direction: the LM head over the vocabulary is never computed.
Prompts are right-padded: with causal attention, real tokens never attend to the padding
after them, so no attention mask is needed and positions are the natural 0..n-1.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from typing import Any

import torch

from rerankd.backends.base import ModelInfo
from rerankd.errors import UnsupportedModelError
from rerankd.loading import ModelSource
from rerankd.scoring import NO_TOKEN, YES_TOKEN, classifier_direction, relevance, yes_no_direction
from rerankd.template import Prompt
from rerankd.text_tokenizer import TextTokenizer

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DTYPE_ALIASES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16"}


def resolve_device(device: str | None) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | None, device: torch.device) -> torch.dtype:
    """fp32 on CPU (bf16 is several times slower without native support), bf16 on CUDA."""
    if dtype in (None, "auto"):
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    name = DTYPE_ALIASES.get(dtype, dtype)
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose from {', '.join(DTYPES)}")
    return DTYPES[name]


def read_architecture(source: ModelSource) -> str:
    config_file = source.path / "config.json"
    try:
        architectures = json.loads(config_file.read_text()).get("architectures") or []
    except (OSError, ValueError) as exc:
        raise UnsupportedModelError(f"cannot read {config_file}: {exc}") from None
    if not architectures:
        raise UnsupportedModelError(f"{config_file} names no architecture")
    return str(architectures[0])


QUANTIZATIONS = ("int8",)


def quantize_linear_layers(body: Any, mode: str, device: torch.device) -> Any:
    """Dynamic int8 Linear layers (weights int8, activations quantized per batch), CPU only.

    The yes/no direction stays fp32 and the score is still computed in fp32.
    """
    if mode not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {mode!r}; choose from {', '.join(QUANTIZATIONS)}")
    if device.type != "cpu":
        raise ValueError("int8 dynamic quantization runs on CPU; on GPU use the vllm backend")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao and quantized tensors are deprecated, not gone
        return torch.ao.quantization.quantize_dynamic(body, {torch.nn.Linear}, dtype=torch.qint8)


class TransformersBackend:
    """Qwen3-Reranker (causal LM or converted seq-cls checkpoint) on torch."""

    def __init__(
        self, source: ModelSource, *, device: str | None = None, dtype: str | None = None,
        quantize: str | None = None,
    ) -> None:
        from transformers import (
            AutoModelForCausalLM,
            AutoModelForSequenceClassification,
            AutoTokenizer,
        )

        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        architecture = read_architecture(source)
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
        if quantize is not None:
            self.body = quantize_linear_layers(self.body, quantize, self.device)
        self.direction = direction.to(self.device)
        self.pad_id = int(model.config.pad_token_id or model.config.eos_token_id or 0)
        self.info = ModelInfo(
            model_id=source.model_id,
            revision=source.revision,
            architecture=architecture,
            device=str(self.device),
            dtype=str(self.dtype).removeprefix("torch.") + (f"+{quantize}" if quantize else ""),
        )

    @torch.inference_mode()
    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        if not prompts:
            return []
        lengths = torch.tensor([len(prompt) for prompt in prompts])
        input_ids = torch.full((len(prompts), int(lengths.max())), self.pad_id, dtype=torch.long)
        for row, prompt in enumerate(prompts):
            input_ids[row, : len(prompt)] = torch.tensor(prompt.ids)
        hidden = self.body(input_ids=input_ids.to(self.device), use_cache=False).last_hidden_state
        last = hidden[torch.arange(len(prompts), device=self.device), lengths.to(self.device) - 1]
        return relevance(last, self.direction).tolist()
