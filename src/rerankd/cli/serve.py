"""Start the HTTP rerank service: every API dialect, the web UI with --ui, replicas on Ray
Serve with --ray. Every flag can also be set by its RERANKD_* environment variable."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from rerankd.config import Settings, from_arguments
from rerankd.config import add_arguments as add_setting_arguments
from rerankd.loading import (
    DEFAULT_MODEL,
    EMBEDDED_MODEL,
    Hub,
    ModelSource,
    resolve_default_model,
    resolve_model,
)

HELP = "start the HTTP rerank service"
SECTIONS = ("model", "engine", "server", "scale_out")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_setting_arguments(parser, SECTIONS, os.environ)
    parser.add_argument(
        "--ray-config", action="store_true",
        help="print a Ray Serve config file (for `serve run`) with these settings, and exit",
    )


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_mapping(from_arguments(args, SECTIONS))
    if args.ray_config:
        from rerankd.ray_serve import config_file

        print(config_file(settings), end="")
        return 0
    logging.basicConfig(level=settings.server.log_level.upper(), format="%(message)s",
                        stream=sys.stderr)
    log = logging.getLogger("rerankd.server")
    settings = Settings(settings.model, settings.engine, settings.server.resolved(),
                        settings.scale_out)
    source, notice = serving_model(settings.model.model, settings.model.hub,
                                   settings.model.revision, log)
    if settings.scale_out.ray:
        from rerankd.ray_serve import deploy

        # Each replica loads the model itself, from its own node's cache or the hub.
        loadable = settings.model.model or (EMBEDDED_MODEL if notice else DEFAULT_MODEL)
        deploy(settings.with_values(
            model=loadable,
            served_model_name=settings.server.served_model_name or source.model_id,
        ), notice=notice)
        return 0
    from rerankd.backends import load_backend
    from rerankd.server import create_app, serve_http

    backend = load_backend(source, settings.model, max_length=settings.engine.max_length)
    info = backend.info
    log.info("loaded %s (%s, %s %s)", info.model_id, info.architecture, info.device, info.dtype)
    if settings.server.api_key is None:
        log.warning("no API key set: every route is open (see --api-key-file)")
    app = create_app(settings, backend, notice=notice, owns_backend=True)
    if settings.server.ui:
        log.info("web UI at http://%s:%d/ui", settings.server.host, settings.server.port)
    return serve_http(app, settings.server)


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
