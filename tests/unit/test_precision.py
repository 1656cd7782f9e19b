"""Each precision keeps its bound against the official fp32 recipe, on a model whose
weights are at their usual scale (std 0.02): fp32 within 1e-4 (the exact path), bf16
within 5e-3 (the official recipe run in bf16 is itself about 5.9e-3 away), int8 within
0.02 and a Spearman rank correlation of at least 0.98 against fp32. The 0.6B-shaped
figures are `rerankd bench`'s (docs/benchmarks.md)."""

from __future__ import annotations

import statistics
import warnings

import pytest

from rerankd import Reranker
from rerankd.bench.random_model import build_random_model
from rerankd.bench.reference import OfficialRecipe
from tests.corpus import DOCUMENTS, QUERIES

MAX_LENGTH = 256
BOUNDS = {  # max |score - official fp32 score|
    "float32": ({"dtype": "float32"}, 1e-4),
    "bfloat16": ({"dtype": "bfloat16"}, 5e-3),
    "float32+int8": ({"dtype": "float32", "quantize": "int8"}, 0.02),
    "bfloat16+int8": ({"dtype": "bfloat16", "quantize": "int8"}, 0.02),
}


@pytest.fixture(scope="module")
def usual_scale_model(tmp_path_factory):
    return build_random_model(tmp_path_factory.mktemp("small"), shape="small", stretched=False)


@pytest.fixture(scope="module")
def official_scores(usual_scale_model):
    official = OfficialRecipe(str(usual_scale_model), max_length=MAX_LENGTH)
    return [s for query, instruction in QUERIES
            for s in official.score(query, DOCUMENTS, instruction)]


def scores_of(model_dir, **options) -> tuple[Reranker, list[float]]:
    reranker = Reranker(str(model_dir), max_length=MAX_LENGTH, **options)
    return reranker, [
        score for query, instruction in QUERIES
        for score in reranker.score([(query, document) for document in DOCUMENTS], instruction)
    ]


def spearman(a: list[float], b: list[float]) -> float:
    def ranks(values):
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0] * len(values)
        for rank, index in enumerate(order):
            result[index] = rank
        return result

    return statistics.correlation(ranks(a), ranks(b))


@pytest.mark.parametrize("precision", list(BOUNDS))
def test_each_precision_keeps_its_bound(usual_scale_model, official_scores, precision):
    options, bound = BOUNDS[precision]
    reranker, scores = scores_of(usual_scale_model, **options)
    assert reranker.backend.info.dtype == precision
    difference = max(abs(a - b) for a, b in zip(scores, official_scores, strict=True))
    print(f"{precision}: max |diff| vs official fp32 = {difference:.2e} over {len(scores)} pairs")
    assert difference <= bound
    if "int8" in precision:
        _, exact = scores_of(usual_scale_model, dtype="float32")
        assert spearman(scores, exact) >= 0.98


def test_scoring_warns_of_nothing(tiny_model_dir):
    """No deprecation advice from transformers (e.g. `past_key_values`) at load or warm-up."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reranker = Reranker(str(tiny_model_dir), max_length=MAX_LENGTH, dtype="float32")
        reranker.score([("warm-up", "rerankd is ready")])
    assert not [w for w in caught if issubclass(w.category, FutureWarning | DeprecationWarning)
                and "transformers" in w.filename], [str(w.message) for w in caught]
