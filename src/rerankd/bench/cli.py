"""Benchmark rerankd against the official recipe, in process and over HTTP; writes
bench.json and bench.png."""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rerankd.bench.measure import (
    RunFigures,
    Scores,
    ServerProcess,
    max_abs_difference,
    spearman,
    timed_requests,
)
from rerankd.bench.vllm_native import DEFAULT_BLOCK_SIZE
from rerankd.bench.workload import BenchRequest, build_workload
from rerankd.evaluation.scorers import library_scorer, server_scorer
from rerankd.extras import pyplot

HELP = "benchmark against the official recipe, in process and over HTTP"
# The CPU features that decide which precision runs fast, named in every figure.
NOTABLE_CPU_FLAGS = frozenset({
    "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_bf16",
    "amx_int8", "amx_tile",
})


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
    """Every run on one workload; each run's scores against the official fp32 recipe."""
    import torch

    from rerankd.backends.hardware import cpu_feature_flags
    from rerankd.reranker import Reranker

    model_dir = model_directory(args)
    workload = build_workload(args.queries, args.docs, seed=args.seed)
    flags = cpu_feature_flags()
    results: dict[str, Any] = {
        "model": str(model_dir), "queries": args.queries, "docs_per_query": args.docs,
        "concurrency": args.concurrency, "max_length": args.max_length,
        "machine": {"cpus": torch.get_num_threads(), "platform": platform.platform(),
                    "torch": torch.__version__, "cpu_flags": sorted(flags & NOTABLE_CPU_FLAGS)},
        "runs": {},
    }
    log(f"CPU flags: {' '.join(results['machine']['cpu_flags']) or 'none of note'}")
    runs: dict[str, RunFigures] = {}
    scores: dict[str, Scores] = {}

    def library_run(**options: Any) -> str:
        reranker = Reranker(str(model_dir), max_length=args.max_length, **options)
        # Warm-up: one small request, on text outside the workload.
        reranker.rank("warm-up", ["warm-up document"])
        name = f"rerankd {reranker.backend.info.dtype}"
        log(f"{name}: scoring")
        runs[name], scores[name] = timed_requests(name, workload, tokens, library_scorer(reranker))
        del reranker
        gc.collect()
        return name

    tokens = workload_tokens(model_dir, args.max_length, workload)
    results["tokens"] = tokens
    log(f"workload: {len(workload)} requests, {sum(len(r.documents) for r in workload)} pairs, "
        f"{tokens} prompt tokens")

    # Each --dtype as the library resolves it ("auto" follows the hardware).
    library = [library_run(dtype=dtype) for dtype in args.dtype or ["auto"]]
    dtypes = [name.removeprefix("rerankd ") for name in library]
    first, dtype = library[0], dtypes[0]
    for mode in args.quantize:
        name = library_run(dtype=dtype, quantize=mode)
        results[f"{mode}_vs_{dtype}"] = {
            "max_abs_score_diff": max_abs_difference(scores[name], scores[first]),
            "spearman": spearman(scores[name], scores[first]),
        }

    if not args.skip_http:
        # A benchmark waits as long as the work takes: no 504s. Every server runs the
        # library's dtype: vLLM's "auto" would downcast a float32 checkpoint to 16 bits and
        # compare unlike with unlike.
        server_args = [
            "--max-length", str(args.max_length), "--request-timeout", "86400", "--dtype", dtype,
        ]
        name = f"http x{args.concurrency} {dtype}"
        with running_server(model_dir, args.port, server_args) as server:
            runs[name], scores[name] = timed_requests(
                name, workload, tokens, server_scorer(server.url), concurrency=args.concurrency
            )
            results["http_vs_library"] = runs[name].pairs_per_s / runs[first].pairs_per_s
            results["cache"] = cached_repeat(server.url, workload[0])
            results["server_peak_rss_bytes"] = server.peak_rss_bytes()
            results["weights_bytes"] = weights_bytes(model_dir)
            results["server_rss_vs_weights"] = (
                results["server_peak_rss_bytes"] / results["weights_bytes"]
            )
        if args.vllm:
            vllm_args = [*server_args, "--backend", "vllm", "--max-model-len",
                         str(args.max_length)]
            vllm_name = f"http x{args.concurrency} --backend vllm {dtype}"
            with running_server(model_dir, args.port, vllm_args) as server:
                runs[vllm_name], scores[vllm_name] = timed_requests(
                    vllm_name, workload, tokens, server_scorer(server.url),
                    concurrency=args.concurrency,
                )
            results["vllm_vs_transformers_http"] = {
                "speedup": runs[vllm_name].pairs_per_s / runs[name].pairs_per_s,
                "max_abs_score_diff": max_abs_difference(scores[vllm_name], scores[name]),
            }

    if args.vllm_python:
        from rerankd.bench.vllm_native import run_native_vllm

        results["vs_vllm_native"] = {}
        for dtype_name in dtypes:
            log(f"native vLLM {dtype_name}: loading (its compile takes minutes) and scoring")
            figures, native_scores, load_s = run_native_vllm(
                Path(args.vllm_python), model_dir, workload, tokens, dtype_name,
                max_model_len=args.max_length, block_size=args.vllm_block_size,
            )
            runs[figures.name], scores[figures.name] = figures, native_scores
            results["vs_vllm_native"][dtype_name] = {
                "speedup": runs[f"rerankd {dtype_name}"].pairs_per_s / figures.pairs_per_s,
                "max_abs_score_diff": max_abs_difference(
                    scores[f"rerankd {dtype_name}"], native_scores
                ),
                "vllm_load_s": load_s, "block_size": args.vllm_block_size,
            }

    if not args.skip_official:
        from rerankd.backends.hardware import DTYPES
        from rerankd.bench.reference import OfficialRecipe

        # fp32 first: the yardstick of every run's max |diff|; then each other dtype, for
        # ratios at equal precision.
        for dtype_name in dict.fromkeys(["float32", *dtypes]):
            official = OfficialRecipe(str(model_dir), max_length=args.max_length,
                                      dtype=DTYPES[dtype_name])
            official.score("warm-up", ["warm-up document"])
            name = f"official {dtype_name}"

            def official_scorer(query: str, documents: Sequence[str],
                                recipe: OfficialRecipe = official) -> list[float]:
                return recipe.score(query, list(documents))

            runs[name], scores[name] = timed_requests(name, workload, tokens, official_scorer)
            del official
            gc.collect()
        reference = runs["official float32"]
        results["runs_vs_official"] = {
            name: {
                "speedup": figures.pairs_per_s / reference.pairs_per_s,
                "max_abs_score_diff": max_abs_difference(scores[name],
                                                         scores["official float32"]),
            }
            for name, figures in runs.items()
        }
    results["runs"] = {name: figures.summary() for name, figures in runs.items()}
    return results


def workload_tokens(model_dir: Path, max_length: int, workload: list[BenchRequest]) -> int:
    """Prompt tokens of the whole workload, as rerankd builds the prompts."""
    from transformers import AutoTokenizer

    from rerankd.families.qwen3 import Qwen3RerankerPrompts
    from rerankd.prompts import TextTokenizer

    builder = Qwen3RerankerPrompts(
        TextTokenizer.from_hf(AutoTokenizer.from_pretrained(model_dir)), max_length=max_length
    )
    return sum(
        len(prompt) for request in workload
        for prompt in builder.build(request.query, request.documents)
    )


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
    yardsticks = ("official", "vllm-native")
    colors = ["#999" if name.startswith(yardsticks) else "#3b7dd8" for name in names]
    figure, axis = plt.subplots(figsize=(max(7, 1.1 * len(names)), 3.5))
    bars = axis.bar(names, values, color=colors)
    axis.tick_params(axis="x", labelrotation=30, labelsize=7)
    axis.bar_label(bars, fmt="%.2f")
    axis.set_ylabel("pairs / s")
    axis.set_title(f"{Path(results['model']).name}: {results['queries']} queries x "
                   f"{results['docs_per_query']} mixed-length docs")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def print_table(results: dict[str, Any]) -> None:
    machine = results["machine"]
    print(f"CPU: {machine['cpus']} threads, flags {' '.join(machine['cpu_flags']) or '-'}")
    print(f"{'run':<34}{'pairs/s':>9}{'tokens/s':>10}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'x official':>11}{'max |diff|':>11}")
    versus = results.get("runs_vs_official", {})
    for name, figures in results["runs"].items():
        ratio = versus.get(name, {})
        print(f"{name:<34}{figures['pairs_per_s']:>9.3f}{figures['tokens_per_s']:>10.1f}"
              f"{figures.get('p50_ms', 0):>9.0f}{figures.get('p95_ms', 0):>9.0f}"
              f"{ratio.get('speedup', float('nan')):>11.2f}"
              f"{ratio.get('max_abs_score_diff', float('nan')):>11.2e}")
    print("(max |diff|: against the official recipe in float32)")
    for key in ("http_vs_library", "server_rss_vs_weights"):
        if key in results:
            print(f"{key}: {results[key]:.2f}")
    if "cache" in results:
        cache = results["cache"]
        print(f"cached repeat: {cache['first_s'] * 1000:.0f} ms -> "
              f"{cache['repeat_s'] * 1000:.1f} ms ({cache['speedup']:.0f}x)")
    if "vllm_vs_transformers_http" in results:
        versus_vllm = results["vllm_vs_transformers_http"]
        print(f"--backend vllm vs transformers (HTTP): {versus_vllm['speedup']:.2f}x, "
              f"max |diff| {versus_vllm['max_abs_score_diff']:.2e}")
    for dtype, versus_native in results.get("vs_vllm_native", {}).items():
        print(f"rerankd / native vLLM at {dtype}: {versus_native['speedup']:.2f}x "
              f"(block_size {versus_native['block_size']}), max |diff| "
              f"{versus_native['max_abs_score_diff']:.2e}")
    for key, value in results.items():
        if isinstance(value, dict) and "spearman" in value:
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
    parser.add_argument("--quantize", action="append", default=[], choices=["int8"],
                        help="also run quantized, at the first --dtype")
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--dtype", action="append", default=[],
        help="a library run at this dtype (repeatable; default: auto, which follows the "
        "hardware). The official recipe and native vLLM run at each of them too, and the "
        "HTTP server at the first",
    )
    parser.add_argument("--vllm", action="store_true",
                        help="also serve with --backend vllm and compare (needs vllm)")
    parser.add_argument(
        "--vllm-python", default=None, metavar="PYTHON",
        help="also run native vLLM (its own LLM(runner='pooling') on the official prompt "
        "text) with this python, of a venv with vLLM (e.g. .venv-vllm/bin/python)",
    )
    parser.add_argument("--vllm-block-size", type=int, default=DEFAULT_BLOCK_SIZE,
                        help="native vLLM's KV block size (its prefix cache reuses whole "
                        "blocks)")
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
