"""Run inside a venv with vLLM (``.venv-vllm``): the vllm backend against the transformers
backend on the same weights (random unless a model is given), through the library and
over HTTP, with concurrent requests meeting in vLLM's async engine. Prints one JSON line
of figures. Used by tests/integration/test_vllm_backend.py."""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def main(work_dir: str, dtype: str, model: str | None = None) -> None:
    """``model``: a checkpoint to check instead of the random one (a real Qwen3-Reranker
    on a GPU)."""
    from rerankd.backends import load_backend
    from rerankd.bench.random_model import build_random_model
    from rerankd.config import ModelConfig
    from rerankd.families.qwen3 import Qwen3RerankerPrompts
    from rerankd.loading import resolve_model
    from rerankd.options import RankOptions
    from tests.corpus import DOCUMENTS, QUERIES

    if model is None:
        # fp32: scores spread over (0, 1). 16 bits: weights at their usual scale, since
        # the spread model's stretched yes-no direction magnifies rounding.
        stretched = dtype == "float32"
        model = str(build_random_model(Path(work_dir) / "small", shape="small", seed=0,
                                       stretched=stretched))
    source = resolve_model(model)
    exact = load_backend(source, ModelConfig(dtype="float32"))
    template = Qwen3RerankerPrompts(exact.tokenizer, max_length=512)
    prompts = [
        p for q, i in QUERIES for p in template.build(q, DOCUMENTS, RankOptions(instruction=i))
    ]
    fp32 = exact.score_prompts(prompts)
    expected = load_backend(source, ModelConfig(dtype=dtype)).score_prompts(prompts)
    started = time.perf_counter()
    engine = load_backend(source, ModelConfig(backend="vllm", dtype=dtype), max_length=1024)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    got = engine.score_prompts(prompts)
    score_s = time.perf_counter() - started
    figures = {
        "dtype": dtype, "pairs": len(prompts), "score_range": [min(fp32), max(fp32)],
        "max_abs_diff": max_abs_diff(expected, got),
        # How far each engine at this dtype is from the exact (fp32) scores.
        "vllm_vs_fp32": max_abs_diff(fp32, got),
        "transformers_vs_fp32": max_abs_diff(fp32, expected),
        "vllm_load_s": load_s, "vllm_score_s": score_s,
    }
    figures.update(prefix_cache_probe(engine, template))
    figures.update(concurrent_http(engine, expected, fp32))
    print(MARKER + json.dumps(figures), flush=True)
    engine.close()  # its worker processes would outlive os._exit below


def prefix_cache_probe(engine, template) -> dict[str, int]:
    """A query whose shared prompt prefix spans several KV-cache blocks, scored for one
    document, then for the rest: their prefix must come from vLLM's prefix cache (whole
    blocks only: 128 tokens on CPU, 16 on GPU)."""
    from tests.corpus import DOCUMENTS

    query = " ".join(["which passage explains how a reranker reuses the query prefix?"] * 25)
    prompts = template.build(query, DOCUMENTS)
    engine.score_prompts(prompts[:1])
    before = engine.cached_prompt_tokens
    engine.score_prompts(prompts[1:])
    block = engine.kv_block_size
    return {
        "prefix_tokens": len(prompts[0].shared),
        "kv_block_size": block,
        "prefix_cached_per_prompt": (engine.cached_prompt_tokens - before) // (len(prompts) - 1),
    }


def max_abs_diff(a: list[float], b: list[float]) -> float:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def concurrent_http(
    engine, expected: list[float], fp32: list[float], rotations: int = 4
) -> dict[str, object]:
    """Every query of the corpus, each with its documents in several orders, all at once
    from as many clients, through the server with no score cache: every answer must
    equal the transformers backend's scores."""
    import httpx

    from rerankd.batching import DirectScheduler
    from tests.corpus import DOCUMENTS, QUERIES
    from tests.integration.server_harness import running_server

    n = len(DOCUMENTS)
    jobs = [(q, k) for q in range(len(QUERIES)) for k in range(rotations)]

    def rerank(job: tuple[int, int]) -> httpx.Response:
        query, instruction = QUERIES[job[0]]
        documents = DOCUMENTS[job[1]:] + DOCUMENTS[:job[1]]
        return httpx.post(server.url + "/v2/rerank", timeout=600, json={
            "query": query, "documents": documents, "instruction": instruction,
        })

    with running_server(engine, max_length=512, cache_size=0) as server:
        direct = isinstance(server.app.state.engine.scheduler, DirectScheduler)
        with ThreadPoolExecutor(len(jobs)) as pool:
            replies = list(pool.map(rerank, jobs))
    diffs, fp32_diffs = [0.0], [0.0]
    for (query, rotation), reply in zip(jobs, replies, strict=True):
        if reply.status_code != 200:
            return {"http_status": reply.status_code, "http_body": reply.text[:500]}
        for result in reply.json()["results"]:
            pair = query * n + (result["index"] + rotation) % n
            diffs.append(abs(result["relevance_score"] - expected[pair]))
            fp32_diffs.append(abs(result["relevance_score"] - fp32[pair]))
    return {"http_status": 200, "http_requests": len(jobs), "http_max_abs_diff": max(diffs),
            "http_vs_fp32": max(fp32_diffs), "direct_to_engine": direct}


MARKER = "RERANKD_FIGURES "

if __name__ == "__main__":
    main(*sys.argv[1:4])
    # vLLM's engine processes log and sometimes fail on interpreter exit; the figures are
    # out, so leave without running its shutdown hooks.
    os._exit(0)
