"""The ``rerankd`` command: serve, rank, make-model."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO

from rerankd.config import Settings
from rerankd.errors import RerankdError
from rerankd.loading import (
    DEFAULT_MODEL,
    EMBEDDED_MODEL,
    Hub,
    ModelSource,
    resolve_default_model,
    resolve_model,
)
from rerankd.template import DEFAULT_MAX_LENGTH

PROGRESS_FROM_DOCUMENTS = 32


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model", default=None,
        help=f"hub id, local directory, or 'embedded' (all-MiniLM-L6-v2 from site-packages). "
        f"Default: {DEFAULT_MODEL}, or the embedded model when that cannot be had",
    )
    group.add_argument("--hub", choices=["huggingface", "modelscope"], default="huggingface")
    group.add_argument("--revision", default=None, help="hub revision (branch, tag or commit)")
    group.add_argument("--backend", default="transformers",
                       choices=["transformers", "vllm", "auto"],
                       help="auto: vLLM when it and CUDA are present, else transformers")
    group.add_argument("--device", default=None, help="cpu, cuda, cuda:1... (default: auto)")
    group.add_argument("--dtype", default=None, help="float32, bfloat16, float16 (default: auto)")
    group.add_argument(
        "--max-length", type=int, default=DEFAULT_MAX_LENGTH,
        help="maximum prompt length in tokens; longer bodies are cut at the tail",
    )


def read_documents(stream: TextIO) -> list[str]:
    """One document per line, or JSON lines with a "text" field."""
    documents = []
    for number, line in enumerate(stream, start=1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict):
                if not isinstance(record.get("text"), str):
                    raise RerankdError(f"line {number}: a JSON line needs a string \"text\" field")
                documents.append(record["text"])
                continue
        documents.append(line)
    return documents


def command_rank(args: argparse.Namespace) -> int:
    from rerankd.reranker import Reranker

    if args.file == "-":
        documents = read_documents(sys.stdin)
    else:
        try:
            with open(args.file, encoding="utf-8") as stream:
                documents = read_documents(stream)
        except OSError as exc:
            raise RerankdError(f"cannot read {args.file}: {exc.strerror}") from None
    reranker = Reranker(
        args.model or DEFAULT_MODEL, device=args.device, dtype=args.dtype,
        max_length=args.max_length, hub=args.hub, revision=args.revision, backend=args.backend,
    )
    results = reranker.rank(
        args.query, documents, instruction=args.instruction, top_n=args.top_n,
        progress=not args.no_progress and len(documents) >= PROGRESS_FROM_DOCUMENTS,
    )
    for result in results:
        print(json.dumps({
            "index": result.index,
            "relevance_score": result.relevance_score,
            "document": result.document,
            **({"truncated": True} if result.truncated else {}),
        }, ensure_ascii=False))
    return 0


def command_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from rerankd.backends import load_backend
    from rerankd.config import read_api_key
    from rerankd.server import create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    log = logging.getLogger("rerankd.server")
    try:
        api_key = read_api_key(args.api_key, args.api_key_file, dict(os.environ))
    except (OSError, ValueError) as exc:
        raise RerankdError(f"cannot read the API key: {exc}") from None
    source, notice = serving_model(args.model, args.hub, args.revision, log)
    settings = Settings(
        model=source.model_id, hub=args.hub, revision=args.revision, backend=args.backend,
        device=args.device, dtype=args.dtype, max_length=args.max_length,
        served_model_name=args.served_model_name, max_batch_tokens=args.max_batch_tokens,
        max_batch_size=args.max_batch_size, batch_wait_ms=args.batch_wait_ms,
        max_queue_pairs=args.max_queue_pairs, cache_size=args.cache_size,
        max_documents=args.max_documents, max_body_bytes=args.max_body_bytes,
        request_timeout_s=args.request_timeout, host=args.host, port=args.port,
        api_key=api_key, model_notice=notice, long_docs=args.long_docs,
        max_chunks_per_doc=args.max_chunks_per_doc, chunk_aggregate=args.chunk_aggregate,
        max_tokens_per_doc=args.max_tokens_per_doc,
        max_tokens_per_query=args.max_tokens_per_query, cache_url=args.cache,
    )
    if args.ray:
        from rerankd.ray_serve import parse_autoscale, run

        # Each replica loads the model itself, from its own node's cache or the hub.
        loadable = args.model or (EMBEDDED_MODEL if notice else DEFAULT_MODEL)
        settings = replace(settings, model=loadable,
                           served_model_name=settings.served_model_name or source.model_id)
        try:
            autoscale = parse_autoscale(args.autoscale)
        except ValueError as error:
            raise RerankdError(str(error)) from None
        run(settings, replicas=args.replicas, autoscale=autoscale, address=args.address,
            ui=args.ui)
        return 0
    vllm_options = {
        "gpu_memory_utilization": args.gpu_memory_utilization,
        "tensor_parallel_size": args.tensor_parallel_size,
        "max_model_len": args.max_model_len,
    }
    backend = load_backend(
        source, backend=settings.backend, device=settings.device, dtype=settings.dtype,
        quantize=args.quantize, vllm_options=vllm_options,
    )
    info = backend.info
    log.info("loaded %s (%s, %s %s)", info.model_id, info.architecture, info.device, info.dtype)
    if api_key is None:
        log.warning("no API key set: every route is open (see --api-key)")
    app = create_app(settings, backend, ui=args.ui, owns_backend=True)
    if args.ui:
        log.info("web UI at http://%s:%d/ui", settings.host, settings.port)
    uvicorn.run(
        app, host=settings.host, port=settings.port, access_log=False, log_config=None,
        timeout_graceful_shutdown=int(settings.request_timeout_s),
    )
    return 0


def serving_model(
    model: str | None, hub: Hub, revision: str | None, log: logging.Logger
) -> tuple[ModelSource, str | None]:
    """The model to serve, and a notice when it is the embedded fallback.

    With no --model, the default Qwen3-Reranker is used if it is cached or reachable,
    otherwise the embedded model, loudly. An explicit --model never falls back.
    """
    if model is not None:
        log.info("loading %s ...", model)
        return resolve_model(model, hub=hub, revision=revision), None
    log.info("loading %s (the default) ...", DEFAULT_MODEL)
    source, error = resolve_default_model(hub, revision)
    if error is None:
        return source, None
    notice = (
        f"{DEFAULT_MODEL} cannot be had here, so rerankd serves the embedded model "
        f"{source.model_id} (a small bi-encoder: lower ranking quality). Provide the "
        "reranker (see the README) or pass --model to choose."
    )
    banner = "=" * 78
    log.warning("%s\nWARNING: %s\n(why: %s)\n%s", banner, notice,
                str(error).splitlines()[0], banner)
    return source, notice


def command_ui(args: argparse.Namespace) -> int:
    from rerankd.ui.app import launch_standalone
    from rerankd.ui.clients import HttpClient

    api_key = args.api_key or os.environ.get("RERANKD_API_KEY")
    launch_standalone(HttpClient(args.server, api_key), args.host, args.port)
    return 0


def command_eval(args: argparse.Namespace) -> int:
    from rerankd.evaluation.harness import EvalConfig, format_table, run_eval
    from rerankd.scorers import library_scorer, server_scorer

    if args.server:
        api_key = args.api_key or os.environ.get("RERANKD_API_KEY")
        scorer, reranker_name = server_scorer(args.server, api_key), args.server
    else:
        from rerankd.reranker import Reranker

        model = args.model or DEFAULT_MODEL
        reranker = Reranker(
            model, device=args.device, dtype=args.dtype, max_length=args.max_length,
            hub=args.hub, revision=args.revision, backend=args.backend,
        )
        scorer, reranker_name = library_scorer(reranker), model
    config = EvalConfig(
        data=str(args.data), first_stage=args.first_stage, top_k=args.top_k,
        reranker=reranker_name, split=args.split,
    )
    report = run_eval(config, scorer, args.out, restart=args.restart,
                      progress=not args.no_progress)
    print(f"{report['queries']} queries, top {args.top_k} from {args.first_stage}, "
          f"reranked by {reranker_name}")
    print(format_table(report))
    print(f"wrote {args.out}/metrics.json, reranked.trec, per_query_gain.png", file=sys.stderr)
    return 0


def command_make_model(args: argparse.Namespace) -> int:
    from rerankd.random_model import build_random_model

    path = build_random_model(args.out, shape=args.shape, seed=args.seed, seq_cls=args.seq_cls)
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rerankd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    rank = commands.add_parser("rank", help="rank documents (one per line) against a query")
    add_model_arguments(rank)
    rank.add_argument("--query", required=True)
    rank.add_argument("--instruction", default=None, help="task instruction (English)")
    rank.add_argument("--top-n", type=int, default=None)
    rank.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    rank.add_argument("file", nargs="?", default="-", help="documents file, or - for stdin")
    rank.set_defaults(handler=command_rank)

    serve = commands.add_parser("serve", help="start the HTTP rerank service")
    add_model_arguments(serve)
    defaults = Settings()
    http = serve.add_argument_group("HTTP")
    http.add_argument("--host", default=defaults.host)
    http.add_argument("--port", type=int, default=defaults.port)
    http.add_argument("--api-key", default=None,
                      help="require `Authorization: Bearer KEY` (or set $RERANKD_API_KEY)")
    http.add_argument("--api-key-file", default=None, help="read the API key from a file")
    serve.add_argument("--ui", action="store_true", help="serve the web UI at /ui")
    serve.add_argument("--quantize", default=None,
                       help="transformers: int8 (dynamic, CPU); vllm: its quantization "
                       "(awq, gptq, fp8...; AWQ/GPTQ checkpoints are detected anyway)")
    http.add_argument("--served-model-name", default=None,
                      help="the model name clients see (default: --model)")
    http.add_argument("--log-level", default="info",
                      choices=["debug", "info", "warning", "error"])
    engine = serve.add_argument_group("batching, cache and limits")
    engine.add_argument("--max-batch-tokens", type=int, default=defaults.max_batch_tokens,
                        help="padded tokens per model batch")
    engine.add_argument("--max-batch-size", type=int, default=defaults.max_batch_size)
    engine.add_argument("--batch-wait-ms", type=float, default=defaults.batch_wait_ms,
                        help="how long a batch waits for more requests")
    engine.add_argument("--max-queue-pairs", type=int, default=defaults.max_queue_pairs,
                        help="pairs waiting beyond this get 503 + Retry-After")
    engine.add_argument("--cache-size", type=int, default=defaults.cache_size,
                        help="scores kept in the LRU cache (0: off)")
    engine.add_argument("--max-documents", type=int, default=defaults.max_documents)
    engine.add_argument("--max-body-bytes", type=int, default=defaults.max_body_bytes)
    engine.add_argument("--request-timeout", type=float, default=defaults.request_timeout_s,
                        help="seconds")
    engine.add_argument("--cache", default=None, metavar="URL",
                        help="redis://host:6379/0: one score cache shared by every replica")
    gpu = serve.add_argument_group("vLLM backend")
    gpu.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    gpu.add_argument("--tensor-parallel-size", type=int, default=1)
    gpu.add_argument("--max-model-len", type=int, default=None,
                     help="vLLM's context length (default: the model's)")
    scale = serve.add_argument_group("scale-out on Ray Serve")
    scale.add_argument("--ray", action="store_true", help="serve with Ray Serve replicas")
    scale.add_argument("--replicas", type=int, default=1)
    scale.add_argument("--autoscale", default=None, metavar="MIN,MAX",
                       help="autoscale between MIN and MAX replicas")
    scale.add_argument("--address", default=None,
                       help="Ray cluster address (default: start a local one)")
    long_docs = serve.add_argument_group("long documents")
    long_docs.add_argument("--long-docs", choices=["truncate", "chunk"], default=defaults.long_docs,
                           help="cut over-long documents, or score overlapping windows")
    long_docs.add_argument("--max-chunks-per-doc", type=int, default=defaults.max_chunks_per_doc)
    long_docs.add_argument("--chunk-aggregate", choices=["max", "top2-mean"],
                           default=defaults.chunk_aggregate)
    long_docs.add_argument("--max-tokens-per-doc", type=int, default=None,
                           help="default cap on each document's tokens")
    long_docs.add_argument("--max-tokens-per-query", type=int, default=None,
                           help="default cap on the query's tokens")
    serve.set_defaults(handler=command_serve)

    ui = commands.add_parser("ui", help="the web UI, standalone, against a running server")
    ui.add_argument("--server", default="http://127.0.0.1:8000", help="rerankd server URL")
    ui.add_argument("--api-key", default=None, help="the server's key ($RERANKD_API_KEY)")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=7860)
    ui.set_defaults(handler=command_ui)

    evaluate = commands.add_parser(
        "eval", help="nDCG@10, MRR@10, Recall and MAP on a BEIR-format dataset"
    )
    add_model_arguments(evaluate)
    evaluate.add_argument("--data", required=True, help="folder with corpus.jsonl, "
                          "queries.jsonl and qrels/<split>.tsv")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--first-stage", default="bm25",
                          help="bm25, or a TREC run file from another retriever")
    evaluate.add_argument("--top-k", type=int, default=100, help="candidates to rerank")
    evaluate.add_argument("--server", default=None,
                          help="rerank through a running server instead of in process")
    evaluate.add_argument("--api-key", default=None, help="the server's key")
    evaluate.add_argument("--out", default="eval-results")
    evaluate.add_argument("--restart", action="store_true", help="discard a partial run")
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.set_defaults(handler=command_eval)

    bench = commands.add_parser(
        "bench", help="benchmark against the official recipe, in process and over HTTP"
    )
    from rerankd.bench.main import add_arguments, command_bench

    add_arguments(bench)
    bench.set_defaults(handler=command_bench)

    make_model = commands.add_parser(
        "make-model", help="write a random-weight Qwen3-Reranker checkpoint (tests, benchmarks)"
    )
    make_model.add_argument("out", help="directory to write")
    make_model.add_argument("--shape", choices=["tiny", "small", "0.6b"], default="tiny")
    make_model.add_argument("--seed", type=int, default=0)
    make_model.add_argument("--seq-cls", action="store_true", help="the seq-cls conversion")
    make_model.set_defaults(handler=command_make_model)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_libraries()
    try:
        return int(args.handler(args))
    except RerankdError as exc:
        print(f"rerankd: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _quiet_libraries() -> None:
    """Loading progress bars and advice from transformers are noise for a CLI user."""
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


if __name__ == "__main__":
    sys.exit(main())
