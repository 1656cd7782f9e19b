"""Documents from what a user pastes or uploads: text, Markdown, JSON lines, CSV."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from rerankd.errors import InvalidInputError

TEXT_COLUMN_NAMES = ("text", "document", "content", "body", "passage")


def documents_from_text(text: str) -> list[str]:
    """One document per non-empty line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def as_lines(documents: list[str]) -> str:
    """Documents back as one per line (line breaks inside a document become spaces)."""
    return "\n".join(" ".join(document.split()) for document in documents)


def csv_columns(path: str | Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as stream:
        header = next(csv.reader(stream), [])
    return [name for name in header if name]


def default_column(columns: list[str]) -> str | None:
    for name in columns:
        if name.strip().lower() in TEXT_COLUMN_NAMES:
            return name
    return columns[0] if columns else None


def read_upload(path: str | Path, column: str | None = None) -> list[str]:
    """.txt/.md split into paragraphs; .jsonl by its "text" field; .csv by ``column``."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path.name} is not UTF-8 text") from None
    if suffix in (".txt", ".md", ".markdown", ".text"):
        return [p.strip() for p in re.split(r"\n\s*\n", content) if p.strip()]
    if suffix in (".jsonl", ".ndjson"):
        documents = []
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise InvalidInputError(f"{path.name} line {number} is not JSON") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise InvalidInputError(f"{path.name} line {number} has no \"text\" field")
            documents.append(record["text"])
        return documents
    if suffix == ".csv":
        rows = list(csv.DictReader(content.splitlines()))
        column = column or default_column(list(rows[0].keys()) if rows else [])
        if not rows or column is None or column not in rows[0]:
            raise InvalidInputError(f"{path.name} has no column {column!r}")
        return [row[column].strip() for row in rows if (row.get(column) or "").strip()]
    raise InvalidInputError(
        f"{path.name}: upload a .txt, .md, .jsonl or .csv file"
    )
