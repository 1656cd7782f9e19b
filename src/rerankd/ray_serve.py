"""Scale-out on Ray Serve: each replica loads one model and runs the same app (every
dialect, auth, limits, metrics, UI) with its own batching; Ray Serve routes requests,
replaces replicas that die, and autoscales.

A replica is configured by the same Settings as ``rerankd serve``: ``rerankd serve
--ray`` deploys from the command line, and ``serve run`` from a config file whose
``args`` are the settings' flat names (``config_file`` writes one; see
docs/scale-out.md).
"""

from __future__ import annotations

import json
import logging
import signal
from typing import Any

from rerankd.config import Settings, env_name, schema
from rerankd.errors import ConfigError
from rerankd.extras import require

logger = logging.getLogger("rerankd.ray")
DEPLOYMENT_NAME = "rerankd"


def replica_app(settings: Settings, notice: str | None = None) -> Any:
    """What each replica runs: the model loaded on that replica, behind the same app."""
    import os

    from rerankd.backends import load_backend
    from rerankd.loading import resolve_model
    from rerankd.server import create_app

    if settings.server.api_key is None and settings.server.api_key_file is None:
        # e.g. set through the runtime_env of a config file
        settings = settings.with_values(api_key=os.environ.get(env_name("api_key")))
    settings = Settings(settings.model, settings.engine, settings.server.resolved(),
                        settings.scale_out)
    model = settings.model
    source = resolve_model(model.model or "", hub=model.hub, revision=model.revision)
    backend = load_backend(source, model, max_length=settings.engine.max_length)
    return create_app(settings, backend, notice=notice, owns_backend=True)


def build_application(
    settings: Settings, *, notice: str | None = None,
    ray_actor_options: dict[str, Any] | None = None,
) -> Any:
    """A Ray Serve application of ``--replicas`` (or autoscaled MIN..MAX) rerankd replicas."""
    serve = require("ray.serve", "--ray")
    autoscale = parse_autoscale(settings.scale_out.autoscale)

    def build_asgi_app() -> Any:  # evaluated on each replica
        return replica_app(settings, notice)

    options: dict[str, Any] = {
        "name": DEPLOYMENT_NAME,
        "ray_actor_options": ray_actor_options or {"num_cpus": 1},
        # A request should wait for its batch, not be sent elsewhere mid-flight.
        "max_ongoing_requests": max(64, settings.engine.max_documents),
        "health_check_period_s": 5,
    }
    if autoscale is not None:
        low, high = autoscale
        options["autoscaling_config"] = {
            "min_replicas": low, "max_replicas": high, "target_ongoing_requests": 8,
        }
    else:
        options["num_replicas"] = settings.scale_out.replicas

    @serve.deployment(**options)
    @serve.ingress(build_asgi_app)
    class RerankdReplica:
        pass

    return RerankdReplica.bind()  # type: ignore[attr-defined]


def app_builder(args: dict[str, Any]) -> Any:
    """For ``serve run`` config files: ``import_path: rerankd.ray_serve:app_builder`` with
    ``args`` naming settings (``model``, ``quantize``, ``replicas``, ``autoscale``...)."""
    return build_application(Settings.from_mapping(args))


def parse_autoscale(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        low, high = (int(part) for part in str(value).split(","))
    except ValueError:
        raise ConfigError(f"--autoscale takes MIN,MAX, got {value!r}") from None
    if not 0 <= low <= high or high < 1:
        raise ConfigError(f"--autoscale needs 0 <= MIN <= MAX and MAX >= 1, got {value!r}")
    return low, high


def deploy(settings: Settings, notice: str | None = None) -> None:
    """Connect to (or start) a Ray cluster, deploy, and block until interrupted."""
    ray = require("ray", "--ray")
    serve = require("ray.serve", "--ray")
    application = build_application(settings, notice=notice)
    # SIGTERM ends the deployment as Ctrl-C does (and a local cluster started here with it).
    signal.signal(signal.SIGTERM, _exit_on_signal)
    ray.init(address=settings.scale_out.address, ignore_reinit_error=True, log_to_driver=False)
    try:
        serve.start(http_options={"host": settings.server.host, "port": settings.server.port})
        scale = settings.scale_out
        logger.info("deploying %s on Ray Serve: %s", settings.model.model,
                    f"autoscale {scale.autoscale}" if scale.autoscale
                    else f"{scale.replicas} replicas")
        serve.run(application, name=DEPLOYMENT_NAME, route_prefix="/", blocking=True)
    finally:
        serve.shutdown()
        ray.shutdown()


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


# Settings that describe the driver, not a replica, and stay out of a config file.
NOT_IN_CONFIG_FILE = {"ray", "address", "host", "port", "api_key", "api_key_file"}


def config_file(settings: Settings) -> str:
    """A Ray Serve config file (for ``serve run`` / ``serve deploy``) that deploys these
    settings: every replica setting under ``args``, the API key from the environment."""
    lines = [
        "# Ray Serve config for `serve run` (or `serve deploy` to a cluster), written by",
        "# `rerankd serve --ray-config` from the same settings as `rerankd serve`: each of",
        "# its flags is an arg below (`--max-documents` is max_documents). Each replica",
        "# loads the model itself. See docs/scale-out.md.",
        "proxy_location: EveryNode",
        "http_options:",
        f"  host: {settings.server.host}",
        f"  port: {settings.server.port}",
        "applications:",
        f"  - name: {DEPLOYMENT_NAME}",
        "    route_prefix: /",
        "    import_path: rerankd.ray_serve:app_builder",
        "    args:",
    ]
    current = settings.flat()
    for section in ("model", "engine", "server", "scale_out"):
        for item in schema(type(getattr(settings, section))):
            if item.name in NOT_IN_CONFIG_FILE:
                continue
            value = current[item.name]
            line = f"{item.name}: {_yaml_scalar(value)}"
            if value == item.default:
                line = "# " + line  # the default: shown, not set
            lines.append(f"      {line}")
    lines += [
        "    runtime_env:",
        "      env_vars:",
        f"        {env_name('api_key')}: change-me  # the API key every replica requires",
    ]
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)  # a JSON string is a YAML scalar

