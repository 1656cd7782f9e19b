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
from rerankd.server.routes import cohere, rerank, score, system

logger = logging.getLogger("rerankd.server")


def create_app(
    settings: Settings, backend: ScoringBackend, *, warm_up: bool = True, ui: bool = False,
    owns_backend: bool = False,
) -> FastAPI:
    """The rerank API over ``backend`` (and the web UI at /ui). /health turns ready after
    the warm-up batch. ``owns_backend``: close it when the app shuts down (an engine with
    processes of its own, like vLLM, stops them); uvicorn re-raises SIGTERM after the
    shutdown, so code after ``uvicorn.run`` never runs."""
    metrics = Metrics()
    engine = RerankEngine(backend, settings, observer=metrics)
    metrics.track_queue(lambda: engine.scheduler.queue_depth)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warming = asyncio.create_task(_start(app, engine, warm_up))
        try:
            yield
        finally:
            warming.cancel()
            await engine.stop()
            close = getattr(backend, "close", None)
            if owns_backend and close is not None:
                await asyncio.to_thread(close)

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
    app.state.ready = asyncio.Event()
    app.state.started_at = time.time()
    install_error_handlers(app)
    routers = [module.router for module in (rerank, cohere, score, system)]
    for router in routers:
        app.include_router(router)

    # Metrics are labelled by route, never by arbitrary paths (bounded cardinality).
    known_paths = {getattr(route, "path", "") for router in routers for route in router.routes}
    public_prefixes: tuple[str, ...] = ()
    if ui:
        from rerankd.ui.app import UI_PATH, mount_ui
        from rerankd.ui.clients import EngineClient

        app = mount_ui(app, EngineClient(engine), settings.api_key)
        public_prefixes = (UI_PATH,)  # guarded by the page's own login (see mount_ui)

    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.api_key:
        app.add_middleware(
            ApiKeyMiddleware, api_key=settings.api_key, public_prefixes=public_prefixes
        )
    app.add_middleware(
        RequestContextMiddleware, metrics=metrics,
        route_of=lambda path: path if path in known_paths else (
            "/ui" if ui and path.startswith("/ui") else "other"
        ),
    )
    return app


async def _start(app: FastAPI, engine: RerankEngine, warm_up: bool) -> None:
    try:
        await engine.start(warm_up=warm_up)
    except Exception:
        logger.exception("the warm-up failed; /health stays not ready")
        return
    app.state.ready.set()
    logger.info("ready: %s on %s", engine.model_name, engine.backend.info.device)
