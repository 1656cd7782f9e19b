"""The configuration schema: every setting of the model, the engine and the HTTP server,
declared once, with its type, default and help.

Everything else is derived from it, so that a setting added here reaches all of them:
- the flags of ``rerankd serve`` (``max_documents`` is ``--max-documents``);
- their environment defaults (``RERANKD_MAX_DOCUMENTS``), as containers configure services;
- the ``args`` of a Ray Serve config file (``rerankd.ray_serve:app_builder``) and the
  settings every replica starts with;
- the keyword arguments of the library, ``Reranker(model, **options)`` (model and engine).
"""

from __future__ import annotations

import argparse
import functools
import types
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from rerankd.errors import ConfigError
from rerankd.families.qwen3 import DEFAULT_MAX_LENGTH
from rerankd.loading import DEFAULT_MODEL, Hub
from rerankd.options import ChunkAggregate, LongDocs, RankOptions
from rerankd.prompts.builder import DEFAULT_MAX_CHUNKS

ENV_PREFIX = "RERANKD_"


def setting(
    default: Any, help: str, *, flag: str | None = None, minimum: float | None = None,
    secret: bool = False, metavar: str | None = None,
) -> Any:
    """A field of the schema: its default, its help, and how its flag is spelled when the
    name alone would not do."""
    return field(default=default, repr=not secret, metadata={
        "help": help, "flag": flag, "minimum": minimum, "secret": secret, "metavar": metavar,
    })


@dataclass(frozen=True)
class ModelConfig:
    """Which model, where from, and how it runs."""

    model: str | None = setting(
        None, f"hub id, local directory, or 'embedded' (all-MiniLM-L6-v2 from site-packages). "
        f"Default: {DEFAULT_MODEL}, or the embedded model when that cannot be had",
    )
    hub: Hub = setting("huggingface", "where hub ids are downloaded from")
    revision: str | None = setting(None, "hub revision (branch, tag or commit)")
    backend: Literal["transformers", "vllm", "auto"] = setting(
        "transformers", "auto: vLLM when it and CUDA are present, else transformers",
    )
    device: str | None = setting(None, "cpu, cuda, cuda:1... (default: CUDA when present)")
    dtype: str = setting(
        "auto", "float32, bfloat16, float16, or auto: bfloat16 on CUDA and on CPUs with "
        "native bf16 (AVX512_BF16 or AMX), float32 elsewhere. Scores are always fp32",
    )
    quantize: str | None = setting(
        None, "transformers: int8 (CPU: int8 weights and activations on oneDNN); vllm: its "
        "quantization (awq, gptq, fp8...)",
    )
    compile: bool = setting(
        True, "transformers on CPU: fuse the element-wise steps with torch.compile (needs a "
        "C++ compiler; without one, or with --no-compile, they run uncompiled)",
    )
    gpu_memory_utilization: float = setting(0.9, "vllm: share of GPU memory it may take",
                                            minimum=0.01)
    tensor_parallel_size: int = setting(1, "vllm: GPUs per replica", minimum=1)
    max_model_len: int | None = setting(
        None, "vllm: context length (default: --max-length)", minimum=1,
    )


@dataclass(frozen=True)
class EngineConfig:
    """Prompts, batching, the score cache, per-request limits and long documents."""

    max_length: int = setting(
        DEFAULT_MAX_LENGTH, "maximum prompt length in tokens; longer bodies are cut at the tail",
        minimum=1,
    )
    max_batch_tokens: int = setting(16384, "padded tokens per model batch", minimum=1)
    max_batch_size: int = setting(64, "prompts per model batch", minimum=1)
    batch_wait_ms: float = setting(2.0, "how long a batch waits for more requests", minimum=0)
    max_queue_pairs: int = setting(
        20_000, "prompts waiting for the model; beyond this a request gets 503 + Retry-After "
        "(one that could never fit gets 422)", minimum=1,
    )
    cache_size: int = setting(100_000, "scores kept in the LRU cache (0: off)", minimum=0)
    cache_url: str | None = setting(
        None, "redis://host:6379/0: one score cache shared by every replica",
        flag="--cache", metavar="URL",
    )
    max_documents: int = setting(
        1000, "documents in one request (pairs for /score)", minimum=1,
    )
    long_docs: LongDocs = setting(
        "truncate", "over-long documents: cut their tail, or score overlapping windows",
    )
    max_chunks_per_doc: int = setting(
        DEFAULT_MAX_CHUNKS, "windows per chunked document", minimum=1,
    )
    chunk_aggregate: ChunkAggregate = setting(
        "max", "a chunked document's score: its best window, or the mean of its best two",
    )
    max_tokens_per_doc: int | None = setting(
        None, "default cap on each document's tokens", minimum=1,
    )
    max_tokens_per_query: int | None = setting(
        None, "default cap on the query's tokens", minimum=1,
    )

    def rank_defaults(self, max_length: int | None = None) -> RankOptions:
        """The options a request leaves unset; ``max_length`` as the model allows it."""
        return RankOptions(
            max_length=max_length or self.max_length, on_overflow="truncate",
            long_docs=self.long_docs, max_chunks_per_doc=self.max_chunks_per_doc,
            chunk_aggregate=self.chunk_aggregate, max_tokens_per_doc=self.max_tokens_per_doc,
            max_tokens_per_query=self.max_tokens_per_query,
        )


@dataclass(frozen=True)
class ServerConfig:
    """The HTTP service."""

    host: str = setting("0.0.0.0", "address to listen on")
    port: int = setting(8000, "port to listen on", minimum=0)
    api_key: str | None = setting(
        None, "require `Authorization: Bearer KEY`. Visible in `ps`: prefer --api-key-file "
        "or $RERANKD_API_KEY", secret=True,
    )
    api_key_file: str | None = setting(None, "read the API key from this file")
    served_model_name: str | None = setting(
        None, "the model name clients see (default: --model)",
    )
    ui: bool = setting(False, "serve the web UI at /ui")
    log_level: Literal["debug", "info", "warning", "error"] = setting("info", "log level")
    max_body_bytes: int = setting(32 * 1024 * 1024, "largest request body (413 beyond)",
                                  minimum=1)
    request_timeout: float = setting(
        300.0, "seconds a request may take once read (504 beyond)", minimum=0.001,
    )
    read_timeout: float = setting(
        30.0, "seconds a client has to send a request's headers, and again its body; a "
        "slower client gets 408 and is disconnected", minimum=0.001,
    )
    shutdown_timeout: float = setting(
        30.0, "on SIGTERM, seconds in-flight requests get to finish (then 503)", minimum=0,
    )

    def resolved(self) -> ServerConfig:
        """The API key read from --api-key-file; given both ways, the key is refused as
        ambiguous rather than one silently chosen."""
        if not self.api_key_file:
            return self
        if self.api_key:
            raise ConfigError(
                "the API key is given twice: set --api-key (or RERANKD_API_KEY) or "
                "--api-key-file (or RERANKD_API_KEY_FILE), not both"
            )
        try:
            key = Path(self.api_key_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(f"cannot read the API key file: {error}") from None
        if not key:
            raise ConfigError(f"the API key file {self.api_key_file} is empty")
        return replace(self, api_key=key, api_key_file=None)


@dataclass(frozen=True)
class ScaleOutConfig:
    """Replicas on Ray Serve."""

    ray: bool = setting(False, "serve with Ray Serve replicas")
    replicas: int = setting(1, "replicas (without --autoscale)", minimum=1)
    autoscale: str | None = setting(None, "autoscale between MIN and MAX replicas",
                                    metavar="MIN,MAX")
    address: str | None = setting(None, "Ray cluster address (default: start a local one)")


SECTIONS: dict[str, type] = {
    "model": ModelConfig, "engine": EngineConfig, "server": ServerConfig,
    "scale_out": ScaleOutConfig,
}


@dataclass(frozen=True)
class Settings:
    """Everything ``rerankd serve`` runs with, in its four sections."""

    model: ModelConfig = field(default_factory=ModelConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    scale_out: ScaleOutConfig = field(default_factory=ScaleOutConfig)

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> Settings:
        """From flat setting names (``{"max_documents": 5}``); unset ones from ``environ``
        (``RERANKD_*``), else their defaults. Unknown names are refused."""
        unknown = set(values) - set(SETTING_SECTIONS)
        if unknown:
            raise ConfigError(f"unknown rerankd settings: {', '.join(sorted(unknown))}")
        return cls(**{
            section: build_section(config_class, values, environ or {})
            for section, config_class in SECTIONS.items()
        })

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name."""
        return {
            name: getattr(getattr(self, section), name)
            for name, section in SETTING_SECTIONS.items()
        }

    def with_values(self, **values: Any) -> Settings:
        """A copy with some settings changed (flat names)."""
        return Settings.from_mapping({**self.flat(), **values})


def schema(config_class: type) -> list[Field[Any]]:
    return list(fields(config_class))


SETTING_SECTIONS: dict[str, str] = {
    item.name: section for section, config_class in SECTIONS.items()
    for item in schema(config_class)
}


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def flag_of(item: Field[Any]) -> str:
    return item.metadata.get("flag") or "--" + item.name.replace("_", "-")


@functools.cache
def _types(config_class: type) -> dict[str, Any]:
    return get_type_hints(config_class)


def value_type(config_class: type, item: Field[Any]) -> tuple[type, tuple[Any, ...] | None, bool]:
    """(base type, choices, optional) of a field: ``int | None`` is (int, None, True)."""
    annotation = _types(config_class)[item.name]
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional = len(members) < len(get_args(annotation))
        annotation = members[0]
    if get_origin(annotation) is Literal:
        return str, get_args(annotation), optional
    return annotation, None, optional


def coerce(config_class: type, item: Field[Any], value: Any, source: str) -> Any:
    """``value`` (typed, or a string from the environment) as the field's type, checked."""
    base, choices, optional = value_type(config_class, item)
    if value is None or (isinstance(value, str) and not value and optional):
        if optional:
            return None
        raise ConfigError(f"{source} needs a value")
    try:
        if base is bool:
            parsed: Any = _parse_bool(value)
        elif base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            parsed = int(value)
        elif base is float:
            if isinstance(value, bool):
                raise ValueError
            parsed = float(value)
        else:
            if not isinstance(value, str):
                raise ValueError
            parsed = value
    except (TypeError, ValueError):
        raise ConfigError(
            f"{source} must be {_describe(base)}, got {value!r}"
        ) from None
    if choices is not None and parsed not in choices:
        raise ConfigError(f"{source} must be one of {', '.join(choices)}, got {parsed!r}")
    minimum = item.metadata.get("minimum")
    if minimum is not None and parsed < minimum:
        raise ConfigError(f"{source} must be at least {minimum:g}, got {parsed!r}")
    return parsed


def build_section(
    config_class: type, values: Mapping[str, Any], environ: Mapping[str, str]
) -> Any:
    """One section from flat values, then the environment, then the defaults."""
    given: dict[str, Any] = {}
    for item in schema(config_class):
        if item.name in values:
            given[item.name] = coerce(config_class, item, values[item.name], item.name)
        elif env_name(item.name) in environ:
            given[item.name] = coerce(
                config_class, item, environ[env_name(item.name)], env_name(item.name)
            )
    return config_class(**given)


def add_arguments(
    parser: argparse.ArgumentParser, sections: Iterable[str], environ: Mapping[str, str]
) -> None:
    """A flag for every setting of ``sections``, each defaulting to its ``RERANKD_*``
    variable, else to the schema's default."""
    for section in sections:
        config_class = SECTIONS[section]
        group = parser.add_argument_group(section.replace("_", " "), config_class.__doc__)
        for item in schema(config_class):
            base, choices, _ = value_type(config_class, item)
            variable = env_name(item.name)
            default = item.default if item.default is not MISSING else None
            if variable in environ:
                try:
                    default = coerce(config_class, item, environ[variable], variable)
                except ConfigError as error:
                    parser.error(str(error))
            # (argparse shows a boolean flag's default itself)
            shown = (
                "" if item.metadata.get("secret") or default is None or base is bool
                else f"default: {default}; "
            )
            help_text = f"{item.metadata['help']} ({shown}env {variable})"
            if base is bool:
                group.add_argument(flag_of(item), dest=item.name, default=default,
                                   action=argparse.BooleanOptionalAction, help=help_text)
                continue
            group.add_argument(
                flag_of(item), dest=item.name, default=default, choices=choices,
                type=functools.partial(_argument, config_class, item), help=help_text,
                metavar=item.metadata.get("metavar"),
            )


def from_arguments(args: argparse.Namespace, sections: Iterable[str]) -> dict[str, Any]:
    """The settings of ``sections`` as parsed, by flat name."""
    names = [item.name for section in sections for item in schema(SECTIONS[section])]
    return {name: getattr(args, name) for name in names}


def _argument(config_class: type, item: Field[Any], text: str) -> Any:
    try:
        return coerce(config_class, item, text, flag_of(item))
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix(flag_of(item) + " ")) from None


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _describe(base: type) -> str:
    return {bool: "true or false", int: "an integer", float: "a number"}.get(base, "a string")
