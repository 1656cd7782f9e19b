"""Documents from uploads: paragraphs, JSON lines, a chosen CSV column."""

from __future__ import annotations

import pytest

from rerankd.errors import InvalidInputError
from rerankd.ui.documents import (
    as_lines,
    csv_columns,
    default_column,
    documents_from_text,
    read_upload,
)
from rerankd.ui.render import results_table, write_downloads


def test_pasted_text_is_one_document_per_line():
    assert documents_from_text("a\n\n  b  \n\nc") == ["a", "b", "c"]


def test_text_and_markdown_split_into_paragraphs(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Title\n\nFirst paragraph\nstill first.\n\n\nSecond.\n")
    assert read_upload(path) == ["# Title", "First paragraph\nstill first.", "Second."]
    assert as_lines(read_upload(path)) == "# Title\nFirst paragraph still first.\nSecond."


def test_json_lines_need_a_text_field(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "one", "id": 1}\n\n{"text": "two"}\n')
    assert read_upload(path) == ["one", "two"]
    path.write_text('{"text": "one"}\n{"body": "no text"}\n')
    with pytest.raises(InvalidInputError, match="line 2"):
        read_upload(path)


def test_csv_uses_the_chosen_column(tmp_path):
    path = tmp_path / "docs.csv"
    path.write_text('id,title,body\n1,Beijing,"The capital, of China"\n2,Paris,France\n')
    columns = csv_columns(path)
    assert columns == ["id", "title", "body"] and default_column(columns) == "body"
    assert read_upload(path) == ["The capital, of China", "France"]
    assert read_upload(path, "title") == ["Beijing", "Paris"]
    with pytest.raises(InvalidInputError, match="no column"):
        read_upload(path, "missing")


def test_other_files_are_refused(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG")
    with pytest.raises(InvalidInputError):
        read_upload(path)


def test_results_render_escaped_with_bars_and_downloads():
    from rerankd.ranking import RankResult

    results = [RankResult(2, 0.75, "<b>bold</b> text"), RankResult(0, 0.25, "x" * 500)]
    table = results_table(results)
    assert "&lt;b&gt;bold&lt;/b&gt;" in table and "<b>bold" not in table
    assert "width:75.0%" in table and "<details>" in table
    json_path, csv_path = write_downloads(results)
    from pathlib import Path

    assert '"relevance_score": 0.75' in Path(json_path).read_text()
    header = Path(csv_path).read_text().splitlines()[0]
    assert header == "rank,index,relevance_score,document,truncated,passage_start,passage_end"
