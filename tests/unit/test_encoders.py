"""Cross-encoders and bi-encoders score as sentence-transformers does on the same weights."""

from __future__ import annotations

import shutil

import pytest
import torch

from rerankd import Reranker
from rerankd.backends.detect import model_kind
from rerankd.bench.random_model import build_random_cross_encoder
from rerankd.loading import EMBEDDED_MODEL_ID, embedded_model, resolve_model
from tests.corpus import DOCUMENTS, QUERIES

sentence_transformers = pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory):
    return build_random_cross_encoder(tmp_path_factory.mktemp("cross-encoder"), num_labels=1)


@pytest.fixture(scope="module")
def embedded():
    return Reranker("embedded", dtype="float32")


def test_cross_encoder_equals_sentence_transformers(cross_encoder_dir):
    ours = Reranker(str(cross_encoder_dir), dtype="float32")
    assert ours.backend.info.architecture == "BertForSequenceClassification"
    reference = sentence_transformers.CrossEncoder(str(cross_encoder_dir), device="cpu")
    for query, _ in QUERIES:
        pairs = [(query, document) for document in DOCUMENTS]
        expected = reference.predict(pairs, batch_size=4)
        assert ours.score(pairs) == pytest.approx(list(expected), abs=1e-5)
    assert max(expected) - min(expected) > 0.01  # the random model discriminates


def test_two_label_cross_encoder_uses_the_probability_of_label_1(tmp_path):
    model_dir = build_random_cross_encoder(tmp_path / "two", num_labels=2, seed=1)
    reference = sentence_transformers.CrossEncoder(str(model_dir), device="cpu")
    pairs = [(QUERIES[0][0], document) for document in DOCUMENTS[:6]]
    logits = torch.tensor(reference.predict(pairs, activation_fn=torch.nn.Identity()))
    expected = torch.softmax(logits, dim=-1)[:, 1].tolist()
    assert Reranker(str(model_dir), dtype="float32").score(pairs) == pytest.approx(
        expected, abs=1e-5
    )


def test_the_backend_comes_from_the_config_not_the_name(cross_encoder_dir, tmp_path):
    misleading = tmp_path / "Qwen3-Reranker-0.6B"
    shutil.copytree(cross_encoder_dir, misleading)
    assert model_kind(resolve_model(str(misleading))) == "cross-encoder"
    assert model_kind(embedded_model()) == "bi-encoder"


def test_embedded_model_equals_sentence_transformers_cosine(embedded):
    assert embedded.backend.info.model_id == EMBEDDED_MODEL_ID
    reference = sentence_transformers.SentenceTransformer(str(embedded_model().path), device="cpu")
    query = QUERIES[0][0]
    vectors = reference.encode([query, *DOCUMENTS], normalize_embeddings=True,
                               convert_to_tensor=True)
    expected = ((vectors[1:] @ vectors[0] + 1) / 2).tolist()
    assert embedded.score([(query, d) for d in DOCUMENTS]) == pytest.approx(expected, abs=1e-5)


def test_embedded_model_ranks_sensibly(embedded):
    documents = [
        "Bananas are rich in potassium.",
        "Beijing is the capital of the People's Republic of China.",
        "The Eiffel Tower is in Paris.",
    ]
    results = embedded.rank("What is the capital of China?", documents)
    assert results[0].index == 1
    assert all(0.0 <= result.relevance_score <= 1.0 for result in results)


def test_encoder_prompts_keep_special_strings_as_text(embedded, cross_encoder_dir):
    # [CLS] q [SEP] + [CLS] d [SEP] for the bi-encoder; [CLS] q [SEP] d [SEP] for the pair.
    for reranker, template_specials in ((embedded, 4), (Reranker(str(cross_encoder_dir)), 3)):
        tokenizer = reranker.backend.tokenizer
        specials = {tokenizer.token_id("[SEP]"), tokenizer.token_id("[CLS]")}
        (prompt,) = reranker.prompt_builder.build("query [SEP]", ["text [SEP] [CLS] more"])
        assert sum(token in specials for token in prompt.ids) == template_specials


def test_long_documents_are_cut_to_the_models_limit(embedded):
    assert embedded.max_length == 256
    (result,) = embedded.rank("query", ["word " * 1000])
    assert result.truncated
