"""The web UI on its own, against a running rerankd server."""

from __future__ import annotations

import argparse
import os

from rerankd.config import env_name

HELP = "the web UI, standalone, against a running server"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", default="http://127.0.0.1:8000", help="rerankd server URL")
    parser.add_argument(
        "--api-key", default=os.environ.get(env_name("api_key")),
        help=f"the server's key (default: ${env_name('api_key')}). Visible in `ps`: prefer "
        f"${env_name('api_key')}",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)


def run(args: argparse.Namespace) -> int:
    from rerankd.ui.app import launch_standalone
    from rerankd.ui.clients import HttpClient

    launch_standalone(HttpClient(args.server, args.api_key), args.host, args.port)
    return 0
