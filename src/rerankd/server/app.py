"""create_app(settings, backend): the FastAPI app over one engine."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from rerankd import __version__
from rerankd.backends import ScoringBackend
from rerankd.config import Settings
from rerankd.engine import RerankEngine
from rerankd.server.errors import install_error_handlers
from rerankd.server.metrics import Metrics
from rerankd.server.middleware import (
    ApiKeyMiddleware,
    BodyLimitMiddleware,
    RequestContextMiddleware,
)
from rerankd.server.routes import rerank, score, system

logger = logging.getLogger("rerankd.server")


def create_app(
    settings: Settings, backend: ScoringBackend, *, notice: str | None = None,
    warm_up: bool = True, owns_backend: bool = False,
) -> FastAPI:
    """The rerank API over ``backend`` (and the web UI at /ui with ``settings.server.ui``).

    The app starts serving once the warm-up batch has run; a backend that fails it stops
    the app's startup. ``notice`` is shown in /health and the UI (the embedded fallback).
    ``owns_backend``: close it when the app shuts down (an engine with processes of its
    own, like vLLM, stops them); uvicorn re-raises SIGTERM after the shutdown, so code
    after ``uvicorn.run`` never runs.
    """
    server = settings.server
    metrics = Metrics()
    engine = RerankEngine(backend, settings.engine, observer=metrics)
    metrics.track_queue(lambda: engine.scheduler.queue_depth)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await engine.start(warm_up=warm_up)
        except Exception as error:
            logger.error("the model failed its warm-up, so the server stops: %s", error)
            await _close(engine, backend, owns_backend)
            raise
        app.state.ready.set()
        info = backend.info
        logger.info("ready: %s (%s %s)", app.state.model_name, info.device, info.dtype)
        try:
            yield
        finally:
            await _close(engine, backend, owns_backend)

    app = FastAPI(
        title="rerankd",
        version=__version__,
        description="Rerank documents with Qwen3-Reranker. Speaks the seed /rerank contract, "
        "TEI, Cohere v1/v2, Jina and vLLM /score.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.metrics = metrics
    app.state.model_name = settings.server.served_model_name or backend.info.model_id
    app.state.notice = notice
    app.state.ready = asyncio.Event()
    app.state.started_at = time.time()
    install_error_handlers(app)
    routers = [module.router for module in (rerank, score, system)]
    for router in routers:
        app.include_router(router)

    # Metrics are labelled by route, never by arbitrary paths (bounded cardinality).
    known_paths = {getattr(route, "path", "") for router in routers for route in router.routes}
    ui_path = login_path = None
    if server.ui:
        from rerankd.ui.app import LOGIN_PATH, UI_PATH, mount_ui
        from rerankd.ui.clients import EngineClient

        app = mount_ui(app, EngineClient(engine, app.state.model_name, notice),
                       server.api_key)
        ui_path, login_path = UI_PATH, LOGIN_PATH

    app.add_middleware(BodyLimitMiddleware, max_body_bytes=server.max_body_bytes,
                       read_timeout=server.read_timeout)
    if server.api_key:
        app.add_middleware(
            ApiKeyMiddleware, api_key=server.api_key, session_prefix=ui_path,
            login_path=login_path,
        )
    app.add_middleware(
        RequestContextMiddleware, metrics=metrics,
        route_of=lambda path: path if path in known_paths else (
            "/ui" if server.ui and path.startswith("/ui") else "other"
        ),
    )
    return app


async def _close(engine: RerankEngine, backend: ScoringBackend, owns_backend: bool) -> None:
    await engine.stop()
    close = getattr(backend, "close", None)
    if owns_backend and close is not None:
        await asyncio.to_thread(close)
