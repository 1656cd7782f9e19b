"""The rerankd command, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from rerankd.cli.rank import read_documents


def run_cli(*args: str, stdin: str = "", offline: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1" if offline else "0"}
    return subprocess.run(
        [sys.executable, "-m", "rerankd.cli", *args], input=stdin, capture_output=True,
        text=True, env=env, timeout=300,
    )


def test_rank_reads_lines_and_json_lines_and_prints_json_lines(tiny_model_dir, reranker):
    documents = ["Beijing is the capital of China.", "Bananas are yellow.", "北京是首都。"]
    stdin = f"{documents[0]}\n{json.dumps({'text': documents[1], 'id': 7})}\n\n{documents[2]}\n"
    result = run_cli(
        "rank", "--model", str(tiny_model_dir), "--max-length", "512", "--dtype", "float32",
        "--query", "capital of China", "--top-n", "2", "-", stdin=stdin,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    expected = reranker.rank("capital of China", documents, top_n=2)
    assert [line["index"] for line in lines] == [item.index for item in expected]
    assert [line["document"] for line in lines] == [item.document for item in expected]
    for line, item in zip(lines, expected, strict=True):
        assert abs(line["relevance_score"] - item.relevance_score) < 1e-5


def test_a_model_that_cannot_be_had_gives_one_clear_error():
    result = run_cli("rank", "--query", "q", "-", stdin="a document\n")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Qwen/Qwen3-Reranker-0.6B" in result.stderr
    assert "--model /path/to/model" in result.stderr


def test_an_unreadable_file_is_reported_without_a_trace(tiny_model_dir):
    result = run_cli("rank", "--model", str(tiny_model_dir), "--query", "q", "/no/such/file")
    assert result.returncode == 1
    assert "cannot read /no/such/file" in result.stderr and "Traceback" not in result.stderr


def test_json_lines_without_text_are_refused(tmp_path):
    import io

    import pytest

    from rerankd.errors import RerankdError

    with pytest.raises(RerankdError, match="line 2"):
        read_documents(io.StringIO('plain\n{"title": "no text"}\n'))
