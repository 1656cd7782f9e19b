"""Scale-out on Ray Serve: each replica loads one model and runs the same app (every
dialect, auth, limits, metrics, UI) with its own batching; Ray Serve routes requests,
replaces replicas that die, and autoscales.

``rerankd serve --ray`` deploys it from the command line; ``serve run`` deploys it from a
config file through ``app_builder`` (see docs/scale-out.md).
"""

from __future__ import annotations

import logging
from dataclasses import fields, replace
from typing import Any

from rerankd.config import Settings

logger = logging.getLogger("rerankd.ray")
DEPLOYMENT_NAME = "rerankd"


def replica_app(settings: Settings, ui: bool) -> Any:
    """What each replica runs: the model loaded on that replica, behind the same app."""
    import os

    from rerankd.backends import load_backend
    from rerankd.config import read_api_key
    from rerankd.loading import resolve_model
    from rerankd.server import create_app

    if settings.api_key is None:  # e.g. set through the runtime_env of a config file
        settings = replace(settings, api_key=read_api_key(None, None, dict(os.environ)))
    source = resolve_model(settings.model, hub=settings.hub,  # type: ignore[arg-type]
                           revision=settings.revision)
    backend = load_backend(
        source, backend=settings.backend, device=settings.device, dtype=settings.dtype
    )
    return create_app(settings, backend, ui=ui, owns_backend=True)


def build_application(
    settings: Settings,
    *,
    replicas: int | None = 1,
    autoscale: tuple[int, int] | None = None,
    ui: bool = False,
    ray_actor_options: dict[str, Any] | None = None,
) -> Any:
    """A Ray Serve application of ``replicas`` (or autoscaled MIN..MAX) rerankd replicas."""
    from ray import serve

    def build_asgi_app() -> Any:  # evaluated on each replica
        return replica_app(settings, ui)

    options: dict[str, Any] = {
        "name": DEPLOYMENT_NAME,
        "ray_actor_options": ray_actor_options or {"num_cpus": 1},
        # A request should wait for its batch, not be sent elsewhere mid-flight.
        "max_ongoing_requests": max(64, settings.max_documents),
        "health_check_period_s": 5,
    }
    if autoscale is not None:
        low, high = autoscale
        options["autoscaling_config"] = {
            "min_replicas": low, "max_replicas": high, "target_ongoing_requests": 8,
        }
    else:
        options["num_replicas"] = replicas

    @serve.deployment(**options)
    @serve.ingress(build_asgi_app)
    class RerankdReplica:
        pass

    return RerankdReplica.bind()  # type: ignore[attr-defined]


def app_builder(args: dict[str, Any]) -> Any:
    """For ``serve run`` config files: ``import_path: rerankd.ray_serve:app_builder`` with
    ``args`` naming Settings fields, plus ``replicas``, ``autoscale: "MIN,MAX"``, ``ui``."""
    args = dict(args)
    replicas = int(args.pop("replicas", 1))
    autoscale = parse_autoscale(args.pop("autoscale", None))
    ui = bool(args.pop("ui", False))
    known = {field.name for field in fields(Settings)}
    unknown = set(args) - known
    if unknown:
        raise ValueError(f"unknown rerankd settings in args: {', '.join(sorted(unknown))}")
    return build_application(Settings(**args), replicas=replicas, autoscale=autoscale, ui=ui)


def parse_autoscale(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        low, high = (int(part) for part in str(value).split(","))
    except ValueError:
        raise ValueError(f"--autoscale takes MIN,MAX, got {value!r}") from None
    if not 0 <= low <= high or high < 1:
        raise ValueError(f"--autoscale needs 0 <= MIN <= MAX and MAX >= 1, got {value!r}")
    return low, high


def run(
    settings: Settings, *, replicas: int | None, autoscale: tuple[int, int] | None,
    address: str | None, ui: bool,
) -> None:
    """Connect to (or start) a Ray cluster, deploy, and block until interrupted."""
    import ray
    from ray import serve

    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    serve.start(http_options={"host": settings.host, "port": settings.port})
    logger.info("deploying %s on Ray Serve: %s", settings.model,
                f"autoscale {autoscale}" if autoscale else f"{replicas} replicas")
    serve.run(
        build_application(settings, replicas=replicas, autoscale=autoscale, ui=ui),
        name=DEPLOYMENT_NAME, route_prefix="/", blocking=True,
    )

