"""ASGI middleware: request ids, access logs and metrics; the API key; the body limit.

Pure ASGI (not BaseHTTPMiddleware), so a client's disconnect still reaches the route.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Container
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rerankd.server.errors import PayloadTooLargeError, error_response
from rerankd.server.metrics import Metrics

access_logger = logging.getLogger("rerankd.access")
# Open without a key: readiness, where the root leads, and whether a key is needed.
PUBLIC_PATHS = frozenset({"/", "/health", "/v1/cluster/auth", "/v1/v1/cluster/auth"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class RequestContextMiddleware:
    """Gives each request an id (X-Request-ID), then logs and counts its outcome."""

    def __init__(self, app: ASGIApp, metrics: Metrics, route_of: Callable[[str], str]) -> None:
        self.app = app
        self.metrics = metrics
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = (_header(scope, b"x-request-id") or uuid.uuid4().hex)[:128]
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed_ms = (time.perf_counter() - started) * 1000
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                    (b"x-total-time", f"{elapsed_ms:.0f}".encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = self.route_of(scope["path"])
            self.metrics.observe_request(route, status, elapsed)
            client = scope.get("client")
            access_logger.info(json.dumps({
                "event": "request", "request_id": request_id, "method": scope["method"],
                "path": scope["path"], "status": status, "ms": round(elapsed * 1000, 1),
                "client": f"{client[0]}:{client[1]}" if client else None,
            }))


class ApiKeyMiddleware:
    """Every route but /health needs ``Authorization: Bearer <key>`` when a key is set.

    vLLM guards only /v1 paths; here /rerank, /score, /metrics, /docs and the UI are
    guarded too. The comparison takes constant time and the key is never logged.
    """

    def __init__(
        self, app: ASGIApp, api_key: str, public: Container[str] = PUBLIC_PATHS,
        public_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self._key = api_key.encode()
        self.public = public
        self.public_prefixes = public_prefixes

    def _is_public(self, path: str) -> bool:
        return path in self.public or any(
            path == prefix or path.startswith(prefix + "/") for prefix in self.public_prefixes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"authorization") or ""
        scheme, _, token = given.partition(" ")
        if scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), self._key):
            await self.app(scope, receive, send)
            return
        message = (
            "missing API key: send `Authorization: Bearer <key>`" if not given
            else "invalid API key"
        )
        response = error_response(
            scope["path"], 401, message, "authentication_error",
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


class BodyLimitMiddleware:
    """Refuses bodies over the limit: at once by Content-Length, or while streaming."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            response = error_response(
                scope["path"], 413, self._message(), "payload_too_large"
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise PayloadTooLargeError(self._message())
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
        return (
            f"the request body is over the limit of {self.max_body_bytes} bytes "
            "(--max-body-bytes)"
        )
