"""GET /, /health, /v1/models, /metrics, and the model checks apps make before they use a
reranker: TEI's /info (Dify's TEI provider) and Xinference's /v1/cluster/auth and
/v1/models/{uid} (xinference-client, Dify's Xinference provider)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from rerankd import __version__

router = APIRouter(tags=["system"])
# xinference-client calls these with its base URL as given, which may end in /v1.
XINFERENCE_PREFIXES = ("/v1", "/v1/v1")


@router.get("/", include_in_schema=False, response_model=None)
async def home(request: Request) -> Response:
    """The web UI when it is served, else the API docs; behind an API key without the UI,
    where a browser cannot open the docs, a note of what is where."""
    server = request.app.state.settings.server
    if server.ui or not server.api_key:
        return RedirectResponse("/ui/" if server.ui else "/docs")
    return JSONResponse({
        "service": "rerankd",
        "message": "every route but /health needs `Authorization: Bearer <API key>`; the "
        "API is described at /docs and /openapi.json (with the key), and `rerankd serve "
        "--ui` adds a web page with a login form",
        "health": "/health", "docs": "/docs",
    })


@router.get("/health", summary="Ready (200) once the model is loaded and warmed up, else 503")
async def health(request: Request) -> JSONResponse:
    state = request.app.state
    info = state.engine.backend.info
    body: dict[str, str] = {"model": state.model_name, "device": info.device, "dtype": info.dtype}
    if state.notice:
        body["notice"] = state.notice
    if state.ready.is_set():
        return JSONResponse({"status": "ok", **body})
    return JSONResponse(
        {"status": "loading", **body}, status_code=503, headers={"Retry-After": "5"}
    )


def model_card(request: Request) -> dict[str, Any]:
    """The served model, in OpenAI's shape, with Xinference's model_type."""
    state = request.app.state
    info = state.engine.backend.info
    return {
        "id": state.model_name,
        "object": "model",
        "created": int(state.started_at),
        "owned_by": "rerankd",
        "root": info.model_id,
        "model_type": "rerank",
        "model_name": state.model_name,
        "max_model_len": state.engine.prompt_builder.max_length,
        "device": info.device,
        "dtype": info.dtype,
    }


async def models(request: Request) -> dict[str, object]:
    """The served model (OpenAI shape)."""
    return {"object": "list", "data": [model_card(request)]}


async def one_model(model_uid: str, request: Request) -> dict[str, Any]:
    """Any model uid describes the one served model (the rerank routes, like Xinference's,
    take the model as a name): a uid like "Qwen/Qwen3-Reranker-0.6B" is not one Dify
    accepts, so the name cannot be required to match. No uid (``/v1/models/``) is the
    list."""
    if not model_uid:
        return await models(request)
    return model_card(request)


async def cluster_auth(request: Request) -> dict[str, bool]:
    """Whether an API key is required; xinference-client sends its key only if so."""
    return {"auth": bool(request.app.state.settings.server.api_key)}


for prefix in XINFERENCE_PREFIXES:
    primary = prefix == "/v1"
    router.add_api_route(
        f"{prefix}/models", models, methods=["GET"], include_in_schema=primary,
        summary="The served model (OpenAI shape)",
    )
    router.add_api_route(
        f"{prefix}/models/{{model_uid:path}}", one_model, methods=["GET"],
        include_in_schema=primary, summary="The served model (Xinference: model_type rerank)",
    )
    router.add_api_route(
        f"{prefix}/cluster/auth", cluster_auth, methods=["GET"], include_in_schema=primary,
        summary="Xinference: whether an API key is required",
    )


@router.get("/info", summary="TEI's model info (model_type reranker), for Dify's TEI provider")
@router.get("/v1/info", include_in_schema=False)
async def info(request: Request) -> dict[str, Any]:
    state = request.app.state
    settings = state.settings
    return {
        "model_id": state.model_name,
        "model_sha": state.engine.backend.info.revision,
        "model_dtype": state.engine.backend.info.dtype,
        "served_model_name": state.model_name,
        "model_type": {"reranker": {"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}}},
        "max_concurrent_requests": settings.engine.max_queue_pairs,
        "max_input_length": state.engine.prompt_builder.max_length,
        "max_batch_tokens": settings.engine.max_batch_tokens,
        "max_batch_requests": None,
        "max_client_batch_size": settings.engine.max_documents,
        "auto_truncate": True,
        "tokenization_workers": 1,
        "version": __version__,
        "sha": None,
        "docker_label": None,
    }


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    body = request.app.state.metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
