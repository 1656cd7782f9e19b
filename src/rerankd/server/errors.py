"""Domain errors to HTTP errors, in each dialect's error shape: the one place they map.

Clients parse errors the way their server of origin writes them. On the rerank paths (and
the TEI and Xinference paths apps check a model with) one body serves them all: TEI's
``error``/``error_type`` (Haystack), Cohere's ``message``, and the ``detail`` that Jina
clients (LangChain, LlamaIndex) and xinference-client read. Elsewhere (/score, /v1/models)
it is OpenAI/vLLM's ``{"error": {"message", "type", "code"}}``, with the same ``detail``
beside it (xinference-client lists models at /v1/models). A 500 never carries internal
text.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rerankd.errors import (
    BackendError,
    InvalidInputError,
    ModelUnavailableError,
    OverloadedError,
    RequestTimeoutError,
    RerankdError,
    UnsupportedModelError,
)

logger = logging.getLogger(__name__)


class PayloadTooLargeError(RerankdError):
    """The request body is over the server's limit."""


class NotReadyError(RerankdError):
    """The model is still loading or warming up."""


class ClientGoneError(RerankdError):
    """The client disconnected before its answer was ready."""


class UnauthorizedError(RerankdError):
    """Missing or wrong API key."""


# (status, error type) per domain error; the first matching class wins.
STATUS_BY_ERROR: list[tuple[type[RerankdError], int, str]] = [
    (UnauthorizedError, 401, "authentication_error"),
    (PayloadTooLargeError, 413, "payload_too_large"),
    (InvalidInputError, 422, "invalid_request"),
    (OverloadedError, 503, "overloaded"),
    (NotReadyError, 503, "not_ready"),
    (RequestTimeoutError, 504, "timeout"),
    (ClientGoneError, 499, "client_closed_request"),
    (ModelUnavailableError, 503, "model_unavailable"),
    (UnsupportedModelError, 503, "model_unavailable"),
    (BackendError, 500, "internal_error"),
    (RerankdError, 500, "internal_error"),
]


# Paths whose clients read the rerank error body: every .../rerank path, and these.
RERANK_ERROR_PATHS = ("/info", "/v1/info", "/v1/models/", "/v1/cluster/auth",
                      "/v1/v1/models/", "/v1/v1/cluster/auth")


def speaks_rerank_errors(path: str) -> bool:
    path = path.rstrip("/")
    return path.endswith("/rerank") or path.startswith(RERANK_ERROR_PATHS)


def error_body(path: str, status: int, message: str, error_type: str) -> dict[str, Any]:
    if speaks_rerank_errors(path):
        return {"error": message, "error_type": error_type, "message": message,
                "detail": message}
    return {"error": {"message": message, "type": error_type, "param": None, "code": status},
            "detail": message}


def error_response(
    path: str, status: int, message: str, error_type: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(path, status, message, error_type), status, headers=headers)


def response_for(path: str, error: RerankdError) -> JSONResponse:
    status, error_type = next(
        (status, kind) for cls, status, kind in STATUS_BY_ERROR if isinstance(error, cls)
    )
    headers = {}
    if isinstance(error, OverloadedError):
        headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
    if isinstance(error, NotReadyError):
        headers["Retry-After"] = "5"
    if isinstance(error, UnauthorizedError):
        headers["WWW-Authenticate"] = "Bearer"
    message = "internal error while scoring" if status == 500 else str(error)
    if status == 500:
        logger.error("request to %s failed: %s", path, error)
    return error_response(path, status, message, error_type, headers)


def describe_validation_error(
    error: RequestValidationError, content_type: str | None
) -> tuple[int, str]:
    """A readable one-line message; 400 for a body that is not JSON at all."""
    if not content_type:
        return 400, "send the request body as JSON, with Content-Type: application/json"
    if "json" not in content_type.lower():
        return 400, (
            f"the request body must be JSON, sent with Content-Type: application/json "
            f"(got {content_type.split(';')[0]})"
        )
    problems: list[str] = []
    for item in error.errors():
        if item.get("type") == "json_invalid":
            return 400, f"the request body is not valid JSON ({item.get('msg', 'parse error')})"
        # A union's branches name themselves in the location ("str", "function-after[…]"):
        # the field's own path is what a caller can act on.
        location = ".".join(
            str(part) for part in item.get("loc", ())
            if part != "body" and not _is_branch_tag(part)
        )
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if item.get("type") == "string_unicode":
            message = "contains an unpaired surrogate, not valid text"
        problem = f"{location}: {message}" if location else message
        if problem not in problems:
            problems.append(problem)
    return 422, "; ".join(problems) or "invalid request"


def _is_branch_tag(part: object) -> bool:
    return isinstance(part, str) and (
        "[" in part or part in ("str", "int", "float", "bool", "list", "dict")
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RerankdError)
    async def domain_error(request: Request, error: RerankdError) -> JSONResponse:
        return response_for(request.url.path, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        content_type = request.headers.get("content-type")
        status, message = describe_validation_error(error, content_type)
        return error_response(request.url.path, status, message, "invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return error_response(
            request.url.path, error.status_code, str(error.detail), "http_error",
            headers=dict(error.headers or {}),
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s", request.url.path)
        return error_response(request.url.path, 500, "internal server error", "internal_error")
