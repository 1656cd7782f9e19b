"""Each speed-up leaves scores unchanged (or, for int8, close)."""

from __future__ import annotations

import pytest

from rerankd import Reranker
from rerankd.backends import load_backend
from rerankd.config import ModelConfig
from rerankd.loading import resolve_model
from rerankd.options import RankOptions
from tests.corpus import DOCUMENTS, QUERIES

MAX_LENGTH = 256


@pytest.fixture(scope="module")
def plain_backend(tiny_model_dir):
    return load_backend(
        resolve_model(str(tiny_model_dir)), ModelConfig(dtype="float32"), reuse_prefix=False
    )


def test_prefix_reuse_equals_the_plain_path(reranker, plain_backend):
    assert reranker.backend.reuse_prefix
    prompts = [
        prompt
        for query, instruction in QUERIES
        for prompt in reranker.prompt_builder.build(
            query, DOCUMENTS, RankOptions(instruction=instruction, max_length=MAX_LENGTH)
        )
    ]
    # One mixed batch (three prefixes), and small batches that reuse cached prefixes.
    reused = reranker.backend.score_prompts(prompts)
    in_small_batches = [
        score for start in range(0, len(prompts), 3)
        for score in reranker.backend.score_prompts(prompts[start : start + 3])
    ]
    plain = plain_backend.score_prompts(prompts)
    assert reused == pytest.approx(plain, abs=1e-5)
    assert in_small_batches == pytest.approx(plain, abs=1e-5)


def test_the_prefix_cache_stays_within_its_token_budget():
    from rerankd.backends.transformers import PrefixCache

    cache = PrefixCache(max_tokens=10)
    computed = []

    def compute(shared):
        computed.append(shared)
        return [shared]

    cache.get((1, 2, 3, 4), compute)
    cache.get((5, 6, 7, 8), compute)
    cache.get((1, 2, 3, 4), compute)  # hit
    assert computed == [(1, 2, 3, 4), (5, 6, 7, 8)]
    cache.get(tuple(range(20)), compute)  # over budget alone: kept, the rest evicted
    cache.get((5, 6, 7, 8), compute)
    assert computed[-1] == (5, 6, 7, 8) and len(computed) == 4


def test_int8_scores_are_probabilities_that_keep_the_ranking_close(tiny_model_dir, reranker):
    quantized = Reranker(
        str(tiny_model_dir), max_length=MAX_LENGTH, quantize="int8", dtype="float32"
    )
    assert quantized.backend.info.dtype == "float32+int8"
    query = QUERIES[0][0]
    fp32 = reranker.score([(query, doc) for doc in DOCUMENTS])
    int8 = quantized.score([(query, doc) for doc in DOCUMENTS])
    assert all(0.0 < score < 1.0 for score in int8)
    assert int8 != fp32
    best_fp32 = max(range(len(fp32)), key=fp32.__getitem__)
    assert sorted(int8, reverse=True).index(int8[best_fp32]) < 3


def test_unknown_quantization_is_refused(tiny_model_dir):
    with pytest.raises(ValueError, match="unknown quantization"):
        Reranker(str(tiny_model_dir), quantize="int3")
