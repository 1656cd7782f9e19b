"""rerankd's scores equal the official recipe's on the same weights."""

from __future__ import annotations

import pytest

from rerankd import Reranker
from rerankd.bench.reference import OfficialRecipe
from tests.corpus import DOCUMENTS, QUERIES

TOLERANCE = 1e-5
MAX_LENGTH = 256  # small, so the long documents are truncated


@pytest.fixture(scope="module")
def short_reranker(tiny_model_dir):
    return Reranker(str(tiny_model_dir), max_length=MAX_LENGTH, dtype="float32")


@pytest.fixture(scope="module")
def official_scores(tiny_model_dir):
    official = OfficialRecipe(str(tiny_model_dir), max_length=MAX_LENGTH)
    return {
        query: official.score(query, DOCUMENTS, instruction) for query, instruction in QUERIES
    }


def test_scores_equal_the_official_recipe(short_reranker, official_scores):
    differences = []
    for query, instruction in QUERIES:
        results = short_reranker.rank(query, DOCUMENTS, instruction=instruction)
        ours = {result.index: result.relevance_score for result in results}
        for index, expected in enumerate(official_scores[query]):
            differences.append(abs(ours[index] - expected))
    assert len(differences) >= 30
    print(f"parity over {len(differences)} pairs: max |diff| = {max(differences):.2e}")
    assert max(differences) <= TOLERANCE


def test_the_tiny_model_spreads_its_scores(official_scores):
    """Parity means little if every score is the same: the test model must discriminate."""
    scores = [score for per_query in official_scores.values() for score in per_query]
    assert min(scores) < 0.2 and max(scores) > 0.5
    assert len({round(score, 3) for score in scores}) > len(scores) // 2


def test_seq_cls_checkpoint_gives_the_same_scores(short_reranker, tiny_seq_cls_dir):
    seq_cls = Reranker(str(tiny_seq_cls_dir), max_length=MAX_LENGTH, dtype="float32")
    assert seq_cls.backend.info.architecture == "Qwen3ForSequenceClassification"
    for query, instruction in QUERIES:
        causal_scores = short_reranker.score([(query, doc) for doc in DOCUMENTS], instruction)
        seq_cls_scores = seq_cls.score([(query, doc) for doc in DOCUMENTS], instruction)
        assert causal_scores == pytest.approx(seq_cls_scores, abs=TOLERANCE)


def test_a_score_does_not_depend_on_its_batch(short_reranker):
    query = QUERIES[0][0]
    together = short_reranker.score([(query, doc) for doc in DOCUMENTS])
    alone = [short_reranker.score([(query, doc)])[0] for doc in DOCUMENTS]
    assert together == pytest.approx(alone, abs=TOLERANCE)
    # Reordered and mixed with other queries' pairs: still the same scores.
    mixed = [(QUERIES[1][0], doc) for doc in DOCUMENTS[:4]] + [
        (query, doc) for doc in reversed(DOCUMENTS)
    ]
    mixed_scores = short_reranker.score(mixed)[4:]
    assert list(reversed(mixed_scores)) == pytest.approx(alone, abs=TOLERANCE)


def test_small_batch_budgets_give_the_same_scores(tiny_model_dir, short_reranker):
    query = QUERIES[2][0]
    one_by_one = Reranker.from_backend(
        short_reranker.backend, max_length=MAX_LENGTH, max_batch_tokens=1, max_batch_size=1
    )
    assert one_by_one.score([(query, d) for d in DOCUMENTS]) == pytest.approx(
        short_reranker.score([(query, d) for d in DOCUMENTS]), abs=TOLERANCE
    )
