"""Results as an HTML table with score bars, and as JSON/CSV files to download."""

from __future__ import annotations

import csv
import html
import io
import json
import tempfile
from pathlib import Path

from rerankd.ranking import RankResult

FOLD_AFTER_CHARS = 240

TABLE_CSS = """
.rerankd-results { width: 100%; border-collapse: collapse; }
.rerankd-results th, .rerankd-results td { padding: 6px 8px; border-bottom: 1px solid #ddd;
  text-align: left; vertical-align: top; }
.rerankd-score { min-width: 140px; }
.rerankd-bar { height: 8px; background: #3b7dd8; border-radius: 4px; margin-top: 4px; }
.rerankd-passage { margin-top: 6px; font-size: 0.92em; }
.rerankd-banner { padding: 8px 12px; border-radius: 6px; background: #fff4ce; }
.rerankd-error { padding: 8px 12px; border-radius: 6px; background: #fde2e1; color: #8a1c1c; }
"""


def results_table(results: list[RankResult]) -> str:
    rows = []
    for rank, result in enumerate(results, start=1):
        score = result.relevance_score
        rows.append(
            f"<tr class='rerankd-row'><td>{rank}</td>"
            f"<td class='rerankd-score'><span class='rerankd-score-value'>{score:.4f}</span>"
            f"<div class='rerankd-bar' style='width:{max(score, 0.0) * 100:.1f}%'></div></td>"
            f"<td>{result.index}</td><td>{_document_cell(result)}</td></tr>"
        )
    return (
        "<table class='rerankd-results'><thead><tr><th>Rank 排名</th><th>Score 分数</th>"
        "<th>Index 原序号</th><th>Document 文档</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>"
    )


def _document_cell(result: RankResult) -> str:
    text = result.document
    note = " <em>(truncated 已截断)</em>" if result.truncated else ""
    if result.passage is not None:
        start, end = result.passage
        passage = text[start:end]
        if len(passage) > 2 * FOLD_AFTER_CHARS:
            passage = passage[: 2 * FOLD_AFTER_CHARS] + "…"
        note += (
            f"<div class='rerankd-passage'><strong>Best passage 最佳段落 "
            f"[{start}:{end}]:</strong> <mark>{html.escape(passage)}</mark></div>"
        )
    if len(text) <= FOLD_AFTER_CHARS:
        return html.escape(text) + note
    return (
        f"<details><summary>{html.escape(text[:FOLD_AFTER_CHARS])}…</summary>"
        f"{html.escape(text)}</details>{note}"
    )


def results_records(results: list[RankResult]) -> list[dict[str, object]]:
    return [
        {"rank": rank, "index": r.index, "relevance_score": r.relevance_score,
         "document": r.document, "truncated": r.truncated,
         "passage_start": r.passage[0] if r.passage else None,
         "passage_end": r.passage[1] if r.passage else None}
        for rank, r in enumerate(results, start=1)
    ]


def write_downloads(results: list[RankResult]) -> tuple[str, str]:
    """The results as ranking.json and ranking.csv in a fresh temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="rerankd-ui-"))
    records = results_records(results)
    json_path = folder / "ranking.json"
    json_path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]) if records else ["rank"])
    writer.writeheader()
    writer.writerows(records)
    csv_path = folder / "ranking.csv"
    csv_path.write_text(buffer.getvalue(), encoding="utf-8")
    return str(json_path), str(csv_path)
