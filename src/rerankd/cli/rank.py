"""Rank documents (one per line, or JSON lines with a "text" field) against a query;
prints JSON lines, best first."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TextIO

from rerankd.config import add_arguments as add_setting_arguments
from rerankd.config import from_arguments
from rerankd.errors import RerankdError
from rerankd.loading import DEFAULT_MODEL

HELP = "rank documents (one per line) against a query"
SECTIONS = ("model", "engine")
PROGRESS_FROM_DOCUMENTS = 32


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--query", required=True)
    parser.add_argument("--instruction", default=None, help="task instruction (English)")
    parser.add_argument("--top-n", type=int, default=None)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("file", nargs="?", default="-", help="documents file, or - for stdin")
    add_setting_arguments(parser, SECTIONS, os.environ)


def run(args: argparse.Namespace) -> int:
    from rerankd.reranker import Reranker

    if args.file == "-":
        documents = read_documents(sys.stdin)
    else:
        try:
            with open(args.file, encoding="utf-8") as stream:
                documents = read_documents(stream)
        except OSError as exc:
            raise RerankdError(f"cannot read {args.file}: {exc.strerror}") from None
    settings = from_arguments(args, SECTIONS)
    reranker = Reranker(settings.pop("model") or DEFAULT_MODEL, **settings)
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
