"""rerankd bench runs end to end (tiny model, small workload) and writes its figures."""

from __future__ import annotations

import json

from rerankd.cli import main
from tests.integration.server_harness import free_port


def test_bench_writes_figures_and_a_chart(tiny_model_dir, tmp_path, capsys):
    code = main([
        "bench", "--model", str(tiny_model_dir), "--queries", "2", "--docs", "3",
        "--concurrency", "2", "--max-length", "512", "--quantize", "int8", "--dtype", "float32",
        "--port", str(free_port()), "--out", str(tmp_path),
    ])
    assert code == 0
    results = json.loads((tmp_path / "bench.json").read_text())
    assert set(results["runs"]) == {
        "rerankd float32", "rerankd float32+int8", "http x2 float32", "official float32",
    }
    for figures in results["runs"].values():
        assert figures["pairs"] == 6 and figures["pairs_per_s"] > 0
    assert results["runs_vs_official"]["rerankd float32"]["max_abs_score_diff"] <= 1e-5
    assert results["runs_vs_official"]["http x2 float32"]["max_abs_score_diff"] <= 1e-5
    assert results["machine"]["cpu_flags"], "the CPU's notable flags are part of the figures"
    assert results["cache"]["repeat_s"] < results["cache"]["first_s"]
    assert results["server_peak_rss_bytes"] > 0
    assert (tmp_path / "bench.png").stat().st_size > 0
    assert "x official" in capsys.readouterr().out
