"""First-stage retrieval with BM25 (the bm25s library)."""

from __future__ import annotations

from rerankd.evaluation.beir import Dataset, Run
from rerankd.extras import require


def bm25_run(dataset: Dataset, k: int) -> Run:
    """The top ``k`` documents of every judged query by BM25 (English stop words)."""
    bm25s = require("bm25s", "BM25 first-stage retrieval")

    doc_ids = list(dataset.corpus)
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize([dataset.corpus[d] for d in doc_ids], stopwords="en", show_progress=False),
        show_progress=False,
    )
    qids = dataset.judged_queries
    tokens = bm25s.tokenize([dataset.queries[q] for q in qids], stopwords="en",
                            show_progress=False)
    results, scores = retriever.retrieve(tokens, k=min(k, len(doc_ids)), show_progress=False)
    run: Run = {}
    for row, qid in enumerate(qids):
        run[qid] = {
            doc_ids[int(index)]: float(score)
            for index, score in zip(results[row], scores[row], strict=True)
        }
    return run
