"""nDCG@10, MRR@10, Recall@k and MAP with pytrec_eval (trec_eval's own code, as BEIR uses)."""

from __future__ import annotations

import statistics

from rerankd.evaluation.beir import Qrels, Run, top_k
from rerankd.extras import require


def evaluate(qrels: Qrels, run: Run, recall_at: int) -> dict[str, dict[str, float]]:
    """Per query: {"nDCG@10", "MRR@10", f"Recall@{recall_at}", "MAP"}."""
    pytrec_eval = require("pytrec_eval", "rerankd eval")

    judged = {qid: docs for qid, docs in qrels.items() if qid in run}
    measures = {"ndcg_cut.10", "map", f"recall.{recall_at}"}
    full = pytrec_eval.RelevanceEvaluator(judged, measures).evaluate(run)
    # MRR@10: reciprocal rank within the first 10 results only.
    reciprocal = pytrec_eval.RelevanceEvaluator(judged, {"recip_rank"}).evaluate(top_k(run, 10))
    return {
        qid: {
            "nDCG@10": values["ndcg_cut_10"],
            "MRR@10": reciprocal.get(qid, {}).get("recip_rank", 0.0),
            f"Recall@{recall_at}": values[f"recall_{recall_at}"],
            "MAP": values["map"],
        }
        for qid, values in full.items()
    }


def mean_metrics(per_query: dict[str, dict[str, float]]) -> dict[str, float]:
    if not per_query:
        return {}
    names = next(iter(per_query.values())).keys()
    return {name: statistics.fmean(v[name] for v in per_query.values()) for name in names}
