"""Serving the app over HTTP with uvicorn, within the server's time limits.

uvicorn bounds an idle keep-alive connection (5 s) and, through ``timeout_graceful_shutdown``,
a shutdown; it does not bound a client that connects and sends nothing, or dribbles its
headers. ``HeaderTimeout`` adds that: a connection gets ``read_timeout`` seconds from its
start (or from its previous response) to finish a request's headers, or it is closed,
with a 408 where it had begun one. The body's own deadline is BodyLimitMiddleware's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rerankd.config import ServerConfig

_TIMEOUT_TEXT = b"the request headers took too long to arrive"
REQUEST_TIMEOUT_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TIMEOUT_TEXT), _TIMEOUT_TEXT)
)


def header_timeout_protocol(read_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's own HTTP protocol (httptools, else h11), with a deadline on headers."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    base: Any = AutoHTTPProtocol

    class HeaderTimeout(base):
        _header_timer: asyncio.TimerHandle | None = None
        _received = False

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            self._received = True
            super().data_received(data)
            if self._awaiting_headers():
                if self._header_timer is None:
                    self._arm()
            else:
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._received = False
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _awaiting_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = asyncio.get_running_loop().call_later(
                read_timeout, self._expire
            )

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _expire(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or not self._awaiting_headers():
                return
            if self._received:  # a request had begun: say why it ends
                self.transport.write(REQUEST_TIMEOUT_408)
            self.transport.close()

    return HeaderTimeout


def uvicorn_config(app: Any, server: ServerConfig, **overrides: Any) -> Any:
    """The uvicorn configuration ``rerankd serve`` runs with."""
    import uvicorn

    return uvicorn.Config(
        app, host=server.host, port=server.port, access_log=False, log_config=None,
        http=header_timeout_protocol(server.read_timeout),
        timeout_graceful_shutdown=max(1, round(server.shutdown_timeout)),
        **overrides,
    )


def serve_http(app: Any, server: ServerConfig) -> int:
    """Serve until SIGTERM or Ctrl-C; in-flight requests get ``shutdown_timeout`` to end."""
    import uvicorn

    running = uvicorn.Server(uvicorn_config(app, server))
    running.run()  # recent uvicorn raises SystemExit(3) itself when the startup fails
    if not running.started:  # the app's startup failed (logged), say the model's warm-up
        raise SystemExit(3)
    return 0
