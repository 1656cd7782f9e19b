"""The ``rerankd`` command. Each subcommand is a module with ``HELP``, ``add_arguments``
and ``run``; heavy imports wait until a subcommand runs."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from rerankd.errors import RerankdError

COMMANDS = {
    "serve": "rerankd.cli.serve",
    "rank": "rerankd.cli.rank",
    "ui": "rerankd.cli.ui",
    "eval": "rerankd.evaluation.cli",
    "bench": "rerankd.bench.cli",
    "make-model": "rerankd.cli.make_model",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rerankd", description="A local reranking service built around Qwen3-Reranker.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = commands.add_parser(name, help=module.HELP, description=module.__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        _quiet_libraries()
        return int(args.run(args))
    except RerankdError as error:
        print(f"rerankd: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _quiet_libraries() -> None:
    """Loading progress bars and advice from transformers are noise for a CLI user."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
