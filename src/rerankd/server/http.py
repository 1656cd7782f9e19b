"""Serving the app over HTTP with uvicorn, within the server's time limits."""

from __future__ import annotations

from typing import Any

from rerankd.config import ServerConfig


def serve_http(app: Any, server: ServerConfig) -> int:
    """Serve until SIGTERM or Ctrl-C; in-flight requests get ``shutdown_timeout`` to end."""
    import uvicorn

    uvicorn.run(
        app, host=server.host, port=server.port, access_log=False, log_config=None,
        timeout_graceful_shutdown=max(1, round(server.shutdown_timeout)),
    )
    return 0
