"""The library API: rank, score, validation."""

from __future__ import annotations

import pytest

from rerankd.errors import InvalidInputError

DOCS = ["Beijing is the capital of China.", "Bananas are yellow.", "中国的首都是北京。"]


def test_rank_returns_every_document_best_first(reranker):
    results = reranker.rank("capital of China", DOCS)
    assert sorted(result.index for result in results) == [0, 1, 2]
    scores = [result.relevance_score for result in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < score < 1.0 for score in scores)
    assert all(DOCS[result.index] == result.document for result in results)


def test_top_n_keeps_the_best(reranker):
    everything = reranker.rank("capital of China", DOCS)
    assert reranker.rank("capital of China", DOCS, top_n=2) == everything[:2]
    assert reranker.rank("capital of China", DOCS, top_n=10) == everything


def test_instruction_changes_scores(reranker):
    default = reranker.score([("capital of China", DOCS[0])])
    custom = reranker.score([("capital of China", DOCS[0])], instruction="Find fruit facts")
    assert default != custom


def test_score_keeps_pair_order(reranker):
    pairs = [("q1", "a"), ("q2", "b"), ("q1", "c")]
    together = reranker.score(pairs)
    assert together == pytest.approx([reranker.score([pair])[0] for pair in pairs], abs=1e-5)


def test_empty_document_list_ranks_nothing(reranker):
    assert reranker.rank("query", []) == []


@pytest.mark.parametrize(
    ("query", "documents", "top_n", "message"),
    [
        ("", DOCS, None, "query must not be empty"),
        ("   ", DOCS, None, "query must not be empty"),
        (3, DOCS, None, "query must be a string"),
        ("q", "not a list", None, "documents must be a list"),
        ("q", ["ok", 5], None, r"documents\[1\] must be a string"),
        ("q", DOCS, 0, "top_n must be a positive integer"),
    ],
)
def test_bad_input_raises_a_clear_error(reranker, query, documents, top_n, message):
    with pytest.raises(InvalidInputError, match=message):
        reranker.rank(query, documents, top_n=top_n)
