"""Long documents: cut, refused, or chunked into overlapping windows; query caps."""

from __future__ import annotations

import itertools

import pytest

from rerankd import Reranker
from rerankd.errors import InputTooLongError
from rerankd.options import RankOptions

MAX_LENGTH = 128
PARAGRAPHS = [f"Paragraph {i} talks about topic number {i} in some detail." for i in range(80)]
LONG_DOCUMENT = " ".join(PARAGRAPHS)
CHUNKED = RankOptions(long_docs="chunk", max_chunks_per_doc=100)


@pytest.fixture(scope="module")
def short(reranker):
    return Reranker.from_backend(reranker.backend, max_length=MAX_LENGTH)


def test_chunks_cover_the_document_with_overlap_and_fit(short):
    prompts = short.prompt_builder.build("topic 42", [LONG_DOCUMENT, "short"], CHUNKED)
    windows = [p for p in prompts if p.document == 0]
    assert len(windows) > 3 and [p.document for p in prompts].count(1) == 1
    assert all(len(p) <= MAX_LENGTH for p in prompts)
    spans = [p.span for p in windows]
    assert spans[0][0] == 0 and spans[-1][1] == len(LONG_DOCUMENT)
    assert all(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))
    assert not any(p.truncated for p in windows)


def test_a_chunked_document_scores_its_best_window(short):
    prompts = short.prompt_builder.build("topic 42", [LONG_DOCUMENT], CHUNKED)
    window_scores = short.backend.score_prompts(prompts)
    (result,) = short.rank("topic 42", [LONG_DOCUMENT], long_docs="chunk", max_chunks_per_doc=100)
    assert result.relevance_score == pytest.approx(max(window_scores), abs=1e-5)
    best = prompts[window_scores.index(max(window_scores))]
    assert result.passage == best.span and not result.truncated
    (mean,) = short.rank("topic 42", [LONG_DOCUMENT], long_docs="chunk", max_chunks_per_doc=100,
                         chunk_aggregate="top2-mean")
    top_two = sorted(window_scores, reverse=True)[:2]
    assert mean.relevance_score == pytest.approx(sum(top_two) / 2, abs=1e-5)


def test_windows_beyond_the_cap_mark_the_document_truncated(short):
    (result,) = short.rank("topic", [LONG_DOCUMENT], max_chunks_per_doc=2)
    assert result.truncated and result.passage is not None
    assert result.passage[1] < len(LONG_DOCUMENT)


def test_by_default_long_documents_are_cut_not_chunked(short):
    (result,) = short.rank("topic", [LONG_DOCUMENT])
    assert result.truncated and result.passage is None


def test_max_tokens_per_doc_cuts_and_reports(short):
    results = short.rank("topic", ["one two three four five six", "one"], max_tokens_per_doc=3)
    assert {r.index: r.truncated for r in results} == {0: True, 1: False}


def test_a_long_query_is_cut_or_refused(short):
    query = "what is " + "very " * 200 + "long"
    (prompt,) = short.prompt_builder.build(
        query, ["document"], RankOptions(max_tokens_per_query=5)
    )
    first_five = short.backend.tokenizer.encode(query).offsets[4][1]
    (expected,) = short.prompt_builder.build(query[:first_five], ["document"])
    assert prompt.shared == expected.shared
    with pytest.raises(InputTooLongError, match="max_tokens_per_query 5"):
        short.rank(query, ["document"], max_tokens_per_query=5, on_overflow="error")
    assert short.rank(query, ["document"], max_tokens_per_query=5)[0].relevance_score > 0


def test_encoders_chunk_too():
    embedded = Reranker("embedded", max_length=64)
    (result,) = embedded.rank("topic 42", [LONG_DOCUMENT], long_docs="chunk",
                              max_chunks_per_doc=100)
    assert result.passage is not None and not result.truncated
    start, end = result.passage
    assert 0 <= start < end <= len(LONG_DOCUMENT)


def test_a_max_length_with_no_room_is_a_clear_error(short):
    embedded = Reranker("embedded")
    for reranker in (short, embedded):
        with pytest.raises(InputTooLongError, match="no room"):
            reranker.prompt_builder.build("query", ["document"], RankOptions(max_length=2))
