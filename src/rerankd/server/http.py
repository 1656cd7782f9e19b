"""Serving the app over HTTP with uvicorn, within the server's time and size limits.

uvicorn bounds an idle keep-alive connection (5 s) and, through ``timeout_graceful_shutdown``,
a shutdown; it does not bound a client that connects and sends nothing, dribbles its
headers, sends endless headers (httptools takes any size), or never reads its answer.
``BoundedConnection`` adds that: a connection gets ``read_timeout`` seconds from its start
(or from its previous response) to finish a request's headers, or it is closed, with a
408 where it had begun one; headers over ``MAX_HEADER_BYTES`` get a 431; a client that
reads nothing of its answer for ``read_timeout`` seconds while the server waits to write
is cut off. The body's own deadline is BodyLimitMiddleware's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rerankd.config import ServerConfig

# Request line and headers together: as much as nginx's default large buffers (4 x 8 KB)
# and more than any client of a rerank API sends.
MAX_HEADER_BYTES = 64 * 1024


def _plain_answer(status: bytes, text: bytes) -> bytes:
    return (
        b"HTTP/1.1 %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (status, len(text), text)
    )


REQUEST_TIMEOUT_408 = _plain_answer(b"408 Request Timeout",
                                    b"the request headers took too long to arrive")
HEADERS_TOO_LARGE_431 = _plain_answer(
    b"431 Request Header Fields Too Large",
    b"the request line and headers are over %d bytes" % MAX_HEADER_BYTES,
)


def bounded_connection_protocol(read_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's own HTTP protocol (httptools, else h11), with deadlines on reading the
    headers and on a client that does not read its answer, and a cap on header size."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    base: Any = AutoHTTPProtocol

    class BoundedConnection(base):
        _header_timer: asyncio.TimerHandle | None = None
        _write_timer: asyncio.TimerHandle | None = None
        _received = False
        _header_bytes = 0

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            self._received = True
            if self._awaiting_headers() and not self.transport.is_closing():
                end = data.find(b"\r\n\r\n")
                if self._header_bytes + (len(data) if end < 0 else end) > MAX_HEADER_BYTES:
                    self.transport.write(HEADERS_TOO_LARGE_431)
                    self.transport.close()
                    return
                self._header_bytes = 0 if end >= 0 else self._header_bytes + len(data)
            super().data_received(data)
            if self._awaiting_headers():
                if self._header_timer is None:
                    self._arm()
            else:
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._received = False
            self._header_bytes = 0
            self._arm()

        def pause_writing(self) -> None:
            """The client is not reading its answer: it gets ``read_timeout`` to resume."""
            super().pause_writing()
            if self._write_timer is None:
                self._write_timer = asyncio.get_running_loop().call_later(
                    read_timeout, self.transport.abort
                )

        def resume_writing(self) -> None:
            super().resume_writing()
            if self._write_timer is not None:
                self._write_timer.cancel()
                self._write_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._write_timer is not None:
                self._write_timer.cancel()
                self._write_timer = None
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

    return BoundedConnection


def uvicorn_config(app: Any, server: ServerConfig, **overrides: Any) -> Any:
    """The uvicorn configuration ``rerankd serve`` runs with."""
    import uvicorn

    return uvicorn.Config(
        app, host=server.host, port=server.port, access_log=False, log_config=None,
        http=bounded_connection_protocol(server.read_timeout),
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
