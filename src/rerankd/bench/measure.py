"""Timed runs of one workload: the official recipe, the library, and the HTTP server."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rerankd.bench.workload import BenchRequest
from rerankd.evaluation.scorers import Scorer

Scores = list[list[float]]  # per request, in document order


@dataclass
class RunFigures:
    name: str
    pairs: int
    tokens: int
    seconds: float
    latencies_s: list[float] = field(default_factory=list, repr=False)

    @property
    def pairs_per_s(self) -> float:
        return self.pairs / self.seconds

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds

    def summary(self) -> dict[str, Any]:
        figures = {k: v for k, v in asdict(self).items() if k != "latencies_s"}
        figures.update(pairs_per_s=self.pairs_per_s, tokens_per_s=self.tokens_per_s)
        if self.latencies_s:
            ordered = sorted(self.latencies_s)
            figures["p50_ms"] = 1000 * statistics.median(ordered)
            figures["p95_ms"] = 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return figures


def timed_requests(
    name: str, workload: Sequence[BenchRequest], tokens: int, scorer: Scorer,
    concurrency: int = 1,
) -> tuple[RunFigures, Scores]:
    """Run every request (``concurrency`` at a time), timing each and the whole."""
    from tqdm import tqdm

    scores: list[list[float]] = [[] for _ in workload]
    latencies: list[float] = [0.0] * len(workload)
    bar = tqdm(total=len(workload), desc=name, unit="req", leave=False, file=sys.stderr)
    lock = threading.Lock()

    def one(index: int) -> None:
        started = time.perf_counter()
        request = workload[index]
        scores[index] = scorer(request.query, request.documents)
        latencies[index] = time.perf_counter() - started
        with lock:
            bar.update(1)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(len(workload))))
    elapsed = time.perf_counter() - started
    bar.close()
    pairs = sum(len(request.documents) for request in workload)
    return RunFigures(name, pairs, tokens, elapsed, latencies), scores


class ServerProcess:
    """``rerankd serve`` in a child process, for throughput, latency and peak RSS."""

    def __init__(self, model_dir: Path, port: int, extra_args: Sequence[str] = ()) -> None:
        self.url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable, "-m", "rerankd.cli", "serve", "--model", str(model_dir),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *extra_args,
        ]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        # A file, not a pipe: nobody reads the log while the server runs, and a full pipe
        # would block a chatty server (vLLM logs a lot).
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                        stderr=self.log, text=True)

    def wait_ready(self, timeout_s: float = 600) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self._failure()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("the server did not become ready")

    def _failure(self) -> str:
        """The error lines of the server's log (vLLM's root cause sits far above the end)."""
        self.log.seek(0)
        lines = self.log.read().splitlines()
        errors = [line for line in lines if "Error:" in line]
        return "\n".join(dict.fromkeys(errors[-5:] or lines[-20:]))

    def peak_rss_bytes(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def max_abs_difference(a: Scores, b: Scores) -> float:
    return max(abs(x - y) for ra, rb in zip(a, b, strict=True) for x, y in zip(ra, rb, strict=True))


def spearman(a: Scores, b: Scores) -> float:
    """Mean over requests of the rank correlation of two score lists."""

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0.0] * len(values)
        for rank, index in enumerate(order):
            result[index] = float(rank)
        return result

    correlations = []
    for ra, rb in zip(a, b, strict=True):
        if len(ra) < 2:
            continue
        correlations.append(statistics.correlation(ranks(ra), ranks(rb)))
    return statistics.fmean(correlations) if correlations else 1.0
