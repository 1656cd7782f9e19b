"""rerankd eval on a BEIR-format set made here: metrics, outputs, resuming, and the
embedded model beating BM25."""

from __future__ import annotations

import json
import os

import pytest

from rerankd.errors import RerankdError
from rerankd.evaluation.beir import load_dataset, read_run, write_run
from rerankd.evaluation.harness import EvalConfig, run_eval
from rerankd.evaluation.metrics import evaluate, mean_metrics
from rerankd.evaluation.scorers import library_scorer, server_scorer
from tests.beir_pydocs import JUDGED_QUERIES, write_dataset
from tests.integration.server_harness import running_server


@pytest.fixture(scope="module")
def pydocs(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("pydocs-beir"))


def test_the_dataset_loads(pydocs):
    dataset = load_dataset(pydocs)
    assert len(dataset.queries) == len(JUDGED_QUERIES)
    assert len(dataset.corpus) > 500
    assert all(dataset.qrels[qid] for qid in dataset.queries)


def test_metrics_match_hand_computed_values():
    qrels = {"q": {"a": 1, "b": 0, "c": 2}}
    run = {"q": {"x": 3.0, "c": 2.0, "a": 1.0}}  # c at rank 2, a at rank 3
    values = evaluate(qrels, run, recall_at=2)["q"]
    assert values["MRR@10"] == pytest.approx(0.5)
    assert values["Recall@2"] == pytest.approx(0.5)
    assert values["MAP"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    # trec_eval's nDCG (what BEIR reports) uses the grade itself as the gain.
    ideal = 2 + 1 / 1.5849625  # grades 2 and 1 at ranks 1 and 2
    assert values["nDCG@10"] == pytest.approx((2 / 1.5849625 + 1 / 2) / ideal, abs=1e-6)


def test_a_run_reranks_writes_outputs_and_resumes(pydocs, reranker, tmp_path):
    config = EvalConfig(data=str(pydocs), first_stage="bm25", top_k=10, reranker="tiny")
    scorer = library_scorer(reranker)
    calls = []

    def failing_after_five(query, documents):
        if len(calls) == 5:
            raise KeyboardInterrupt  # the user stops the run
        calls.append(query)
        return scorer(query, documents)

    with pytest.raises(KeyboardInterrupt):
        run_eval(config, failing_after_five, tmp_path, progress=False)
    resumed = []
    report = run_eval(
        config, lambda q, d: resumed.append(q) or scorer(q, d), tmp_path, progress=False
    )
    assert len(resumed) == len(JUDGED_QUERIES) - 5
    assert report["queries"] == len(JUDGED_QUERIES)
    for name in ("nDCG@10", "MRR@10", "Recall@10", "MAP"):
        assert 0.0 <= report["reranked"][name] <= 1.0
    assert report["reranked"]["Recall@10"] == pytest.approx(report["first_stage"]["Recall@10"])
    for file in ("metrics.json", "first_stage.trec", "reranked.trec", "per_query_gain.png"):
        assert (tmp_path / file).stat().st_size > 0
    reranked = read_run(tmp_path / "reranked.trec")
    assert set(reranked) == set(report["per_query"])
    assert all(len(docs) == 10 for docs in reranked.values())
    other = EvalConfig(data=str(pydocs), first_stage="bm25", top_k=5, reranker="tiny")
    (tmp_path / "reranked.partial.jsonl").write_text('{"qid": "q0", "scores": {}}\n')
    with pytest.raises(RerankdError, match="other settings"):
        run_eval(other, scorer, tmp_path, progress=False)


def test_a_finished_run_does_not_block_a_run_with_other_settings(pydocs, reranker, tmp_path):
    scorer = library_scorer(reranker)
    first = EvalConfig(data=str(pydocs), first_stage="bm25", top_k=5, reranker="tiny")
    run_eval(first, scorer, tmp_path, progress=False)
    other = EvalConfig(data=str(pydocs), first_stage="bm25", top_k=3, reranker="tiny")
    report = run_eval(other, scorer, tmp_path, progress=False)
    assert report["config"]["top_k"] == 3
    assert all(len(docs) == 3 for docs in read_run(tmp_path / "reranked.trec").values())


def test_a_checkpoint_a_finished_run_left_behind_does_not_block(pydocs, reranker, tmp_path):
    """Earlier versions kept the checkpoint beside a finished run's metrics."""
    scorer = library_scorer(reranker)
    first = EvalConfig(data=str(pydocs), first_stage="bm25", top_k=5, reranker="tiny")
    run_eval(first, scorer, tmp_path, progress=False)
    checkpoint = tmp_path / "reranked.partial.jsonl"
    checkpoint.write_text('{"qid": "q0", "scores": {}}\n')
    os.utime(checkpoint, (1, 1))  # older than metrics.json, as a finished run left it
    other = EvalConfig(data=str(pydocs), first_stage="bm25", top_k=3, reranker="tiny")
    assert run_eval(other, scorer, tmp_path, progress=False)["config"]["top_k"] == 3


def test_a_failed_plot_leaves_no_checkpoint_behind(pydocs, reranker, tmp_path, monkeypatch):
    from rerankd.evaluation import harness

    def broken_plot(report, path):
        raise RuntimeError("no display")

    monkeypatch.setattr(harness, "plot_gains", broken_plot)
    config = EvalConfig(data=str(pydocs), first_stage="bm25", top_k=3, reranker="tiny")
    with pytest.raises(RuntimeError):
        run_eval(config, library_scorer(reranker), tmp_path, progress=False)
    assert (tmp_path / "reranked.trec").exists()
    assert not (tmp_path / "reranked.partial.jsonl").exists()


def test_a_run_file_can_be_the_first_stage(pydocs, reranker, tmp_path):
    dataset = load_dataset(pydocs)
    first = {qid: {doc: 1.0 / (rank + 1) for rank, doc in enumerate(list(docs)[:5])}
             for qid, docs in dataset.qrels.items()}
    write_run(first, tmp_path / "first.trec", "mine")
    config = EvalConfig(data=str(pydocs), first_stage=str(tmp_path / "first.trec"), top_k=5,
                        reranker="tiny")
    report = run_eval(config, library_scorer(reranker), tmp_path / "out", progress=False)
    assert report["queries"] == len(first)


def test_reranking_through_a_server_equals_the_library(pydocs, reranker, tmp_path):
    config = EvalConfig(data=str(pydocs), first_stage="bm25", top_k=5, reranker="tiny")
    library = run_eval(config, library_scorer(reranker), tmp_path / "library", progress=False)
    with running_server(reranker.backend) as server:
        served = run_eval(config, server_scorer(server.url), tmp_path / "server",
                          progress=False)
    assert served["reranked"] == pytest.approx(library["reranked"], abs=1e-6)


def test_the_embedded_model_raises_ndcg_over_bm25(pydocs, tmp_path):
    from rerankd import Reranker

    config = EvalConfig(data=str(pydocs), first_stage="bm25", top_k=30, reranker="embedded")
    report = run_eval(config, library_scorer(Reranker("embedded")), tmp_path, progress=False)
    print(json.dumps({k: report[k] for k in ("first_stage", "reranked")}, indent=1))
    assert report["reranked"]["nDCG@10"] > report["first_stage"]["nDCG@10"]
    assert mean_metrics({}) == {}
