"""Benchmark rerankd against the official recipe, in process and over HTTP; writes
bench.json and bench.png."""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rerankd.bench.measure import (
    RunFigures,
    ServerProcess,
    max_abs_difference,
    spearman,
    timed_requests,
)
from rerankd.bench.workload import build_workload
from rerankd.evaluation.scorers import library_scorer, server_scorer
from rerankd.extras import pyplot

HELP = "benchmark against the official recipe, in process and over HTTP"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def model_directory(args: argparse.Namespace) -> Path:
    if args.model:
        return Path(args.model)
    from rerankd.bench.random_model import build_random_model

    path = Path(args.models_dir) / f"random-{args.shape}"
    if not (path / "config.json").exists():
        log(f"building a random {args.shape}-shaped model in {path}")
        build_random_model(path, shape=args.shape)
    return path


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from rerankd.reranker import Reranker

    model_dir = model_directory(args)
    workload = build_workload(args.queries, args.docs, seed=args.seed)
    results: dict[str, Any] = {
        "model": str(model_dir), "queries": args.queries, "docs_per_query": args.docs,
        "concurrency": args.concurrency, "max_length": args.max_length,
        "machine": {"cpus": torch.get_num_threads(), "platform": platform.platform(),
                    "torch": torch.__version__},
        "runs": {},
    }
    runs: dict[str, RunFigures] = {}
    scores: dict[str, list[list[float]]] = {}

    reranker = Reranker(str(model_dir), max_length=args.max_length, dtype=args.dtype)
    tokens = sum(
        len(prompt)
        for request in workload
        for prompt in reranker.prompt_builder.build(request.query, request.documents)
    )
    results["tokens"] = tokens
    log(f"workload: {len(workload)} requests, {sum(len(r.documents) for r in workload)} pairs, "
        f"{tokens} prompt tokens")

    # Warm-up: one small request per engine, on text outside the workload.
    reranker.rank("warm-up", ["warm-up document"])
    # Every server runs the library's dtype: vLLM's "auto" would downcast a float32
    # checkpoint to 16 bits and compare unlike with unlike.
    dtype = reranker.backend.info.dtype
    runs["rerankd"], scores["rerankd"] = timed_requests(
        f"rerankd {dtype}", workload, tokens, library_scorer(reranker)
    )
    for mode in args.quantize:
        quantized = Reranker(
            str(model_dir), max_length=args.max_length, quantize=mode, dtype=args.dtype
        )
        quantized.rank("warm-up", ["warm-up document"])
        name = f"rerankd {mode}"
        runs[name], scores[name] = timed_requests(name, workload, tokens, library_scorer(quantized))
        results[f"{mode}_vs_fp32"] = {
            "max_abs_score_diff": max_abs_difference(scores[name], scores["rerankd"]),
            "spearman": spearman(scores[name], scores["rerankd"]),
        }
        del quantized
        gc.collect()
    del reranker
    gc.collect()

    if not args.skip_http:
        # A benchmark waits as long as the work takes: no 504s.
        server_args = [
            "--max-length", str(args.max_length), "--request-timeout", "86400", "--dtype", dtype,
        ]
        name = f"http x{args.concurrency}"
        with running_server(model_dir, args.port, server_args) as server:
            runs[name], scores[name] = timed_requests(
                name, workload, tokens, server_scorer(server.url), concurrency=args.concurrency
            )
            results["http_vs_library"] = runs[name].pairs_per_s / runs["rerankd"].pairs_per_s
            results["cache"] = cached_repeat(server.url, workload[0])
            results["server_peak_rss_bytes"] = server.peak_rss_bytes()
            results["weights_bytes"] = weights_bytes(model_dir)
            results["server_rss_vs_weights"] = (
                results["server_peak_rss_bytes"] / results["weights_bytes"]
            )
        if args.vllm:
            vllm_args = [*server_args, "--backend", "vllm", "--max-model-len",
                         str(args.max_length)]
            vllm_name = f"{name} vllm"
            with running_server(model_dir, args.port, vllm_args) as server:
                runs[vllm_name], scores[vllm_name] = timed_requests(
                    vllm_name, workload, tokens, server_scorer(server.url),
                    concurrency=args.concurrency,
                )
            results["vllm_vs_transformers_http"] = {
                "speedup": runs[vllm_name].pairs_per_s / runs[name].pairs_per_s,
                "max_abs_score_diff": max_abs_difference(scores[vllm_name], scores[name]),
            }

    if not args.skip_official:
        from rerankd.bench.reference import OfficialRecipe

        official = OfficialRecipe(str(model_dir), max_length=args.max_length)
        official.score("warm-up", ["warm-up document"])
        runs["official"], scores["official"] = timed_requests(
            "official recipe", workload, tokens,
            lambda query, documents: official.score(query, list(documents)),
        )
        for name in runs:
            if name == "official":
                continue
            results["runs_vs_official"] = results.get("runs_vs_official", {})
            results["runs_vs_official"][name] = {
                "speedup": runs[name].pairs_per_s / runs["official"].pairs_per_s,
                "max_abs_score_diff": max_abs_difference(scores[name], scores["official"]),
            }
    results["runs"] = {name: figures.summary() for name, figures in runs.items()}
    return results


@contextmanager
def running_server(model_dir: Path, port: int, server_args: list[str]) -> Iterator[ServerProcess]:
    """``rerankd serve`` in a child process, warmed up, until the block ends."""
    server = ServerProcess(model_dir, port, server_args)
    try:
        log(f"starting rerankd serve {' '.join(server_args)} ...")
        server.wait_ready()
        yield server
    finally:
        server.stop()


def cached_repeat(url: str, request: Any) -> dict[str, float]:
    """The same request twice with a fresh query: the second is answered from the cache."""
    import time

    import httpx

    body = {"query": request.query + " (cache probe)", "documents": request.documents}
    timings = []
    with httpx.Client(base_url=url, timeout=3600) as client:
        for _ in range(2):
            started = time.perf_counter()
            client.post("/rerank", json=body).raise_for_status()
            timings.append(time.perf_counter() - started)
    return {"first_s": timings[0], "repeat_s": timings[1], "speedup": timings[0] / timings[1]}


def weights_bytes(model_dir: Path) -> int:
    return sum(file.stat().st_size for file in model_dir.glob("*.safetensors"))


def write_chart(results: dict[str, Any], path: Path) -> None:
    plt = pyplot("the benchmark chart")

    names = list(results["runs"])
    values = [results["runs"][name]["pairs_per_s"] for name in names]
    figure, axis = plt.subplots(figsize=(7, 3.5))
    bars = axis.bar(names, values, color=["#999" if n == "official" else "#3b7dd8" for n in names])
    axis.bar_label(bars, fmt="%.2f")
    axis.set_ylabel("pairs / s")
    axis.set_title(f"{Path(results['model']).name}: {results['queries']} queries x "
                   f"{results['docs_per_query']} mixed-length docs")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def print_table(results: dict[str, Any]) -> None:
    print(f"{'run':<20}{'pairs/s':>10}{'tokens/s':>11}{'p50 ms':>10}{'p95 ms':>10}"
          f"{'x official':>12}{'max |diff|':>12}")
    versus = results.get("runs_vs_official", {})
    for name, figures in results["runs"].items():
        ratio = versus.get(name, {})
        print(f"{name:<20}{figures['pairs_per_s']:>10.3f}{figures['tokens_per_s']:>11.1f}"
              f"{figures.get('p50_ms', 0):>10.0f}{figures.get('p95_ms', 0):>10.0f}"
              f"{ratio.get('speedup', 1.0):>12.2f}{ratio.get('max_abs_score_diff', 0.0):>12.2e}")
    for key in ("http_vs_library", "server_rss_vs_weights"):
        if key in results:
            print(f"{key}: {results[key]:.2f}")
    if "cache" in results:
        cache = results["cache"]
        print(f"cached repeat: {cache['first_s'] * 1000:.0f} ms -> "
              f"{cache['repeat_s'] * 1000:.1f} ms ({cache['speedup']:.0f}x)")
    if "vllm_vs_transformers_http" in results:
        versus_vllm = results["vllm_vs_transformers_http"]
        print(f"vllm vs transformers (HTTP): {versus_vllm['speedup']:.2f}x, "
              f"max |diff| {versus_vllm['max_abs_score_diff']:.2e}")
    for key, value in results.items():
        if key.endswith("_vs_fp32"):
            print(f"{key}: max |diff| {value['max_abs_score_diff']:.4f}, "
                  f"spearman {value['spearman']:.3f}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="model directory (default: random model)")
    parser.add_argument("--shape", choices=["tiny", "0.6b"], default="0.6b",
                        help="shape of the random model built when --model is not given")
    parser.add_argument("--models-dir", default="models", help="where random models are kept")
    parser.add_argument("--queries", type=int, default=2)
    parser.add_argument("--docs", type=int, default=24, help="documents per query")
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP clients")
    parser.add_argument("--max-length", type=int, default=8192)
    parser.add_argument("--quantize", action="append", default=[], choices=["int8"])
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--dtype", default=None,
                        help="model dtype for every run (default: the backend's own)")
    parser.add_argument("--vllm", action="store_true",
                        help="also serve with --backend vllm and compare (needs vllm)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench-results", help="folder for bench.json/png")


def run(args: argparse.Namespace) -> int:
    results = measure(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2))
    write_chart(results, out / "bench.png")
    print_table(results)
    log(f"wrote {out / 'bench.json'} and {out / 'bench.png'}")
    return 0
