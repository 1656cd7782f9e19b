"""Run inside a venv with vLLM (``.venv-vllm``): the vllm backend against the transformers
backend on the same random weights, through the library and over HTTP. Prints one JSON
line of figures. Used by tests/integration/test_vllm_backend.py."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(work_dir: str, dtype: str) -> None:
    from rerankd.backends import load_backend
    from rerankd.loading import resolve_model
    from rerankd.random_model import build_random_model
    from rerankd.template import Qwen3RerankerTemplate
    from tests.corpus import DOCUMENTS, QUERIES

    model_dir = build_random_model(Path(work_dir) / "small", shape="small", seed=0)
    source = resolve_model(str(model_dir))
    reference = load_backend(source, backend="transformers", dtype=dtype)
    template = Qwen3RerankerTemplate(reference.tokenizer, max_length=512)
    prompts = [p for q, i in QUERIES for p in template.build(q, DOCUMENTS, i)]
    expected = reference.score_prompts(prompts)
    started = time.perf_counter()
    engine = load_backend(source, backend="vllm", dtype=dtype,
                          vllm_options={"max_model_len": 1024})
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    got = engine.score_prompts(prompts)
    score_s = time.perf_counter() - started
    figures = {
        "dtype": dtype, "pairs": len(prompts),
        "max_abs_diff": max(abs(a - b) for a, b in zip(expected, got, strict=True)),
        "vllm_load_s": load_s, "vllm_score_s": score_s,
    }
    from tests.integration.server_harness import running_server

    with running_server(engine, max_length=512) as server, server.client() as http:
        reply = http.post("/v2/rerank", json={"query": QUERIES[0][0], "documents": DOCUMENTS})
        figures["http_status"] = reply.status_code
        by_index = {r["index"]: r["relevance_score"] for r in reply.json()["results"]}
        figures["http_max_abs_diff"] = max(
            abs(by_index[i] - expected[i]) for i in range(len(DOCUMENTS))
        )
    print(MARKER + json.dumps(figures), flush=True)


MARKER = "RERANKD_FIGURES "

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "float32")
    # vLLM's engine processes log and sometimes fail on interpreter exit; the figures are
    # out, so leave without running its shutdown hooks.
    os._exit(0)
