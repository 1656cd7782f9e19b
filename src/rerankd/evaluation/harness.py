"""First stage, then rerank, then metrics; resumable, with a table, JSON, a run file and a
plot of per-query gains."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rerankd.errors import RerankdError
from rerankd.evaluation.beir import Dataset, Run, read_run, top_k, write_run
from rerankd.evaluation.metrics import evaluate, mean_metrics
from rerankd.evaluation.retrieval import bm25_run
from rerankd.evaluation.scorers import Scorer
from rerankd.extras import pyplot, require

CHECKPOINT = "reranked.partial.jsonl"


@dataclass(frozen=True)
class EvalConfig:
    data: str
    first_stage: str  # "bm25" or a TREC run file
    top_k: int
    reranker: str  # the model or server, for the record and for safe resuming
    split: str = "test"


def first_stage_run(dataset: Dataset, config: EvalConfig) -> Run:
    if config.first_stage == "bm25":
        return bm25_run(dataset, config.top_k)
    run = read_run(config.first_stage)
    unknown = {d for scores in run.values() for d in scores if d not in dataset.corpus}
    if unknown:
        raise RerankdError(
            f"{config.first_stage} names {len(unknown)} documents not in the corpus, "
            f"e.g. {sorted(unknown)[0]!r}"
        )
    return top_k({qid: run[qid] for qid in dataset.judged_queries if qid in run}, config.top_k)


def rerank_run(
    dataset: Dataset, candidates: Run, scorer: Scorer, out: Path, progress: bool = True
) -> Run:
    """Rerank each query's candidates, appending to a checkpoint so a stopped run resumes."""
    from tqdm import tqdm

    checkpoint = out / CHECKPOINT
    reranked: Run = {}
    if checkpoint.exists():
        for line in checkpoint.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                reranked[record["qid"]] = record["scores"]
    todo = [qid for qid in candidates if qid not in reranked]
    if reranked:
        print(f"resuming: {len(reranked)} queries done, {len(todo)} to go", file=sys.stderr)
    with open(checkpoint, "a", encoding="utf-8") as stream:
        for qid in tqdm(todo, desc="reranking", unit="query", disable=not progress,
                        file=sys.stderr):
            doc_ids = list(candidates[qid])
            scores = scorer(dataset.queries[qid], [dataset.corpus[d] for d in doc_ids])
            reranked[qid] = dict(zip(doc_ids, scores, strict=True))
            stream.write(json.dumps({"qid": qid, "scores": reranked[qid]}) + "\n")
            stream.flush()
    return {qid: reranked[qid] for qid in candidates}


def run_eval(
    config: EvalConfig, scorer: Scorer, out_dir: str | Path, *, restart: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    # The metrics and the plot come after the reranking: their libraries are checked
    # before it, not after an hour of work.
    require("pytrec_eval", "rerankd eval's metrics")
    pyplot("the per-query gain plot")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _guard_resume(out, config, restart)
    dataset = load(config)
    candidates = first_stage_run(dataset, config)
    write_run(candidates, out / "first_stage.trec", "first-stage")
    reranked = rerank_run(dataset, candidates, scorer, out, progress)
    write_run(reranked, out / "reranked.trec", "rerankd")
    # The run is whole in reranked.trec now: nothing is left to resume, and a next run
    # into the same folder, with any settings, starts afresh.
    (out / CHECKPOINT).unlink(missing_ok=True)
    first = evaluate(dataset.qrels, candidates, config.top_k)
    second = evaluate(dataset.qrels, reranked, config.top_k)
    report = {
        "config": config.__dict__,
        "queries": len(candidates),
        "first_stage": mean_metrics(first),
        "reranked": mean_metrics(second),
        "per_query": {
            qid: {"first_stage": first.get(qid, {}), "reranked": second.get(qid, {})}
            for qid in candidates
        },
    }
    (out / "metrics.json").write_text(json.dumps(report, indent=2))
    plot_gains(report, out / "per_query_gain.png")
    return report


def load(config: EvalConfig) -> Dataset:
    from rerankd.evaluation.beir import load_dataset

    return load_dataset(config.data, config.split)


def _guard_resume(out: Path, config: EvalConfig, restart: bool) -> None:
    """A checkpoint is only reused for the same data, first stage, depth and reranker."""
    recorded = out / "eval-config.json"
    checkpoint = out / CHECKPOINT
    metrics = out / "metrics.json"
    finished = (
        checkpoint.exists() and metrics.exists()
        and checkpoint.stat().st_mtime <= metrics.stat().st_mtime
    )  # a checkpoint a finished run left behind (earlier versions of rerankd kept it)
    if (restart or finished) and checkpoint.exists():
        checkpoint.unlink()
    if (
        checkpoint.exists() and recorded.exists()
        and json.loads(recorded.read_text()) != config.__dict__
    ):
        raise RerankdError(
            f"{out} holds a partial run with other settings; use another --out, "
            "or --restart to discard it"
        )
    recorded.write_text(json.dumps(config.__dict__, indent=2))


def plot_gains(report: dict[str, Any], path: Path) -> None:
    plt = pyplot("the per-query gain plot")

    gains = sorted(
        values["reranked"].get("nDCG@10", 0.0) - values["first_stage"].get("nDCG@10", 0.0)
        for values in report["per_query"].values()
    )
    figure, axis = plt.subplots(figsize=(7, 3.2))
    axis.bar(range(len(gains)), gains,
             color=["#3b7dd8" if gain >= 0 else "#d8563b" for gain in gains])
    axis.axhline(0, color="#444", linewidth=0.8)
    axis.set_xlabel("queries, sorted by gain")
    axis.set_ylabel("nDCG@10 after − before")
    first, second = report["first_stage"], report["reranked"]
    axis.set_title(f"nDCG@10 {first.get('nDCG@10', 0):.3f} → {second.get('nDCG@10', 0):.3f}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def format_table(report: dict[str, Any]) -> str:
    names = list(report["first_stage"])
    lines = [f"{'':<14}" + "".join(f"{name:>12}" for name in names)]
    for label, key in (("first stage", "first_stage"), ("reranked", "reranked")):
        lines.append(f"{label:<14}" + "".join(f"{report[key][n]:>12.4f}" for n in names))
    lines.append(f"{'gain':<14}" + "".join(
        f"{report['reranked'][n] - report['first_stage'][n]:>+12.4f}" for n in names
    ))
    return "\n".join(lines)
