"""GET /health, /v1/models and /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

router = APIRouter(tags=["system"])


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


@router.get("/v1/models", summary="The served model (OpenAI shape)")
async def models(request: Request) -> dict[str, object]:
    state = request.app.state
    return {
        "object": "list",
        "data": [{
            "id": state.model_name,
            "object": "model",
            "created": int(state.started_at),
            "owned_by": "rerankd",
            "root": state.engine.backend.info.model_id,
            "max_model_len": state.engine.prompt_builder.max_length,
            "device": state.engine.backend.info.device,
            "dtype": state.engine.backend.info.dtype,
        }],
    }


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    body = request.app.state.metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

