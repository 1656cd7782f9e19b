"""`rerankd serve` run as a user runs it: a child process configured by flags and by
RERANKD_* variables, alone and on Ray Serve."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.server_harness import free_port

DOCS = ["Beijing is the capital of China.", "Bananas are yellow.", "北京是首都。"]


@contextlib.contextmanager
def serve(args: list[str], environ: dict[str, str], log_path) -> Iterator[str]:
    """``rerankd serve ARGS`` with ``environ`` added, until it answers /health; stopped
    with SIGTERM (and its process group killed) when the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rerankd.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), *args],
            env={**os.environ, "HF_HUB_OFFLINE": "1", **environ},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 240
            while True:
                assert process.poll() is None, log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, "the server did not become ready"
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=120)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)


def test_environment_variables_configure_the_server(tiny_model_dir, tmp_path):
    environ = {"RERANKD_MAX_DOCUMENTS": "5", "RERANKD_SERVED_MODEL_NAME": "from-env",
               "RERANKD_DTYPE": "float32"}
    with serve(["--model", str(tiny_model_dir)], environ, tmp_path / "log") as url:
        six = httpx.post(url + "/v2/rerank", json={"query": "q", "documents": ["d"] * 6})
        assert six.status_code == 422
        assert "at most 5 (--max-documents)" in six.json()["message"]
        five = httpx.post(url + "/v2/rerank", json={"query": "q", "documents": ["d"] * 5})
        assert five.status_code == 200 and five.json()["model"] == "from-env"
        health = httpx.get(url + "/health").json()
        assert health["dtype"] == "float32"


ray = pytest.importorskip("ray", reason="Ray Serve is an optional extra: rerankd[ray]")


@pytest.mark.slow
def test_serve_ray_runs_int8_replicas_configured_like_serve(tiny_model_dir, tmp_path):
    """--quantize, the dtype and the limits reach every replica, from flags and from the
    environment alike."""
    args = ["--ray", "--replicas", "1", "--model", str(tiny_model_dir), "--quantize", "int8",
            "--dtype", "float32", "--api-key-file", str(tmp_path / "key")]
    (tmp_path / "key").write_text("ray-cli-key\n")
    environ = {"RERANKD_MAX_DOCUMENTS": "2"}
    headers = {"Authorization": "Bearer ray-cli-key"}
    with serve(args, environ, tmp_path / "log") as url:
        health = httpx.get(url + "/health").json()
        assert health["dtype"] == "float32+int8"
        models = httpx.get(url + "/v1/models", headers=headers).json()
        assert models["data"][0]["dtype"] == "float32+int8"
        three = httpx.post(url + "/v2/rerank", json={"query": "q", "documents": DOCS},
                           headers=headers)
        assert three.status_code == 422 and "at most 2" in three.json()["message"]
        two = httpx.post(url + "/v2/rerank", json={"query": "q", "documents": DOCS[:2]},
                         headers=headers)
        assert two.status_code == 200 and len(two.json()["results"]) == 2
        assert httpx.post(url + "/v2/rerank", json={"query": "q", "documents": DOCS[:2]}
                          ).status_code == 401
