"""ASGI middleware, outermost first: request ids, access logs and metrics (and a clean
answer when a shutdown cuts a request short); the API key; the body, read whole within
its size and time limits before anything parses it.

Pure ASGI (not BaseHTTPMiddleware), so a client's disconnect still reaches the route.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable, Container
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rerankd.server.errors import error_response
from rerankd.server.metrics import Metrics

access_logger = logging.getLogger("rerankd.access")
# Open without a key: readiness, where the root leads, and whether a key is needed.
PUBLIC_PATHS = frozenset({"/", "/health", "/v1/cluster/auth", "/v1/v1/cluster/auth"})
# A client's X-Request-ID is kept only if it looks like an id; it is echoed into
# response ids and logs.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
CLIENT_CLOSED_REQUEST = 499


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class ClientGone(Exception):
    """The client disconnected before its request was read."""


class RequestContextMiddleware:
    """Gives each request an id (X-Request-ID), then logs and counts its outcome.

    A request still running when a graceful shutdown runs out of time is cancelled by
    the server; it is answered 503 here instead of the server's plain-text 500.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, route_of: Callable[[str], str]) -> None:
        self.app = app
        self.metrics = metrics
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id") or ""
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status: int | None = None

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
        except ClientGone:
            status = CLIENT_CLOSED_REQUEST
        except asyncio.CancelledError:
            # Only the server cancels a request's task: its graceful shutdown is over.
            # The task ends here, answered, rather than as an error.
            if status is None:
                response = error_response(
                    scope["path"], 503, "the server is shutting down; retry on another "
                    "replica or shortly", "shutting_down", headers={"Connection": "close"},
                )
                await response(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = self.route_of(scope["path"])
            self.metrics.observe_request(route, status or 500, elapsed)
            client = scope.get("client")
            access_logger.info(json.dumps({
                "event": "request", "request_id": request_id, "method": scope["method"],
                "path": scope["path"], "status": status or 500,
                "ms": round(elapsed * 1000, 1),
                "client": f"{client[0]}:{client[1]}" if client else None,
            }))


class ApiKeyMiddleware:
    """Every route but the public ones needs ``Authorization: Bearer <key>`` when a key
    is set.

    vLLM guards only /v1 paths; here /rerank, /score, /metrics, /docs and the UI are
    guarded too. A browser cannot send a Bearer header, so the UI (``session_prefix``)
    also takes the session cookie its login page sets; its own login page is open. The
    check comes before the body is read: a refused request costs nothing. Comparisons
    take constant time and the key is never logged.
    """

    def __init__(
        self, app: ASGIApp, api_key: str, public: Container[str] = PUBLIC_PATHS,
        session_prefix: str | None = None, login_path: str | None = None,
    ) -> None:
        self.app = app
        self._key = api_key.encode()
        self.public = public
        self.session_prefix = session_prefix
        self.login_path = login_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if self._in_session_area(path) and scope["method"] == "GET" and self.login_path:
            # A person at a browser: to the login page.
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", self.login_path.encode()),
                                    (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        given = _header(scope, b"authorization") or ""
        message = (
            "missing API key: send `Authorization: Bearer <key>`" if not given
            else "invalid API key"
        )
        response = error_response(
            path, 401, message, "authentication_error",
            headers={"WWW-Authenticate": "Bearer", "Connection": "close"},
        )
        await response(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        path = scope["path"]
        if path in self.public or path == self.login_path:
            return True
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), self._key):
            return True
        if self._in_session_area(path):
            cookie = _cookie(scope, SESSION_COOKIE)
            return cookie is not None and secrets.compare_digest(
                cookie.encode(), session_token(self._key.decode()).encode()
            )
        return False

    def _in_session_area(self, path: str) -> bool:
        prefix = self.session_prefix
        return prefix is not None and (path == prefix or path.startswith(prefix + "/"))


SESSION_COOKIE = "rerankd_session"


def session_token(api_key: str) -> str:
    """What the UI's login cookie holds: derived from the key (so a new key ends every
    session), never the key itself."""
    return hmac.new(api_key.encode(), b"rerankd ui session", hashlib.sha256).hexdigest()


def _cookie(scope: Scope, name: str) -> str | None:
    for part in (_header(scope, b"cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class BodyLimitMiddleware:
    """Reads each request's body whole before the app sees it, within two limits:
    ``max_body_bytes`` (413, whether the length is declared or the body is chunked) and
    ``read_timeout`` seconds (408, so a client that dribbles its body cannot hold a
    connection). A client that leaves mid-body is counted as 499."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, read_timeout: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(scope, receive, send, 413, self._too_large(), "payload_too_large")
            return
        try:
            body = await asyncio.wait_for(self._read(receive), timeout=self.read_timeout)
        except TimeoutError:
            await self._refuse(
                scope, receive, send, 408,
                f"the request body took longer than {self.read_timeout:g} s to arrive "
                "(--read-timeout)", "request_timeout",
            )
            return
        except _TooLarge:
            await self._refuse(scope, receive, send, 413, self._too_large(), "payload_too_large")
            return
        if body and _header(scope, b"content-type") is None:
            # Every API here takes JSON: a raw client that names no type means JSON (FastAPI
            # versions differ on such a body: parsed, or refused as no object).
            scope = {**scope, "headers": [*scope["headers"],
                                          (b"content-type", b"application/json")]}
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect, if the client goes

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, message: str, kind: str
    ) -> None:
        # The rest of the body is not read: the connection closes after the answer.
        response = error_response(scope["path"], status, message, kind,
                                  headers={"Connection": "close"})
        await response(scope, receive, send)

    def _too_large(self) -> str:
        return (
            f"the request body is over the limit of {self.max_body_bytes} bytes "
            "(--max-body-bytes)"
        )


class _TooLarge(Exception):
    pass
