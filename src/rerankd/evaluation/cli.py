"""nDCG@10, MRR@10, Recall@k and MAP on a BEIR-format dataset, before and after reranking
(in process, or through a running server)."""

from __future__ import annotations

import argparse
import os
import sys

from rerankd.config import add_arguments as add_setting_arguments
from rerankd.config import env_name, from_arguments
from rerankd.loading import DEFAULT_MODEL

HELP = "nDCG@10, MRR@10, Recall and MAP on a BEIR-format dataset"
SECTIONS = ("model", "engine")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="folder with corpus.jsonl, "
                        "queries.jsonl and qrels/<split>.tsv")
    parser.add_argument("--split", default="test")
    parser.add_argument("--first-stage", default="bm25",
                        help="bm25, or a TREC run file from another retriever")
    parser.add_argument("--top-k", type=int, default=100, help="candidates to rerank")
    parser.add_argument("--server", default=None,
                        help="rerank through a running server instead of in process")
    parser.add_argument("--api-key", default=os.environ.get(env_name("api_key")),
                        help=f"the server's key (default: ${env_name('api_key')})")
    parser.add_argument("--out", default="eval-results")
    parser.add_argument("--restart", action="store_true", help="discard a partial run")
    parser.add_argument("--no-progress", action="store_true")
    add_setting_arguments(parser, SECTIONS, os.environ)


def run(args: argparse.Namespace) -> int:
    from rerankd.evaluation.harness import EvalConfig, format_table, run_eval
    from rerankd.evaluation.scorers import library_scorer, server_scorer

    if args.server:
        scorer, reranker_name = server_scorer(args.server, args.api_key), args.server
    else:
        from rerankd.reranker import Reranker

        settings = from_arguments(args, SECTIONS)
        model = settings.pop("model") or DEFAULT_MODEL
        scorer, reranker_name = library_scorer(Reranker(model, **settings)), model
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
