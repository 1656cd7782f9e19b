"""BEIR-format datasets (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) and TREC run files."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from rerankd.errors import RerankdError

Run = dict[str, dict[str, float]]  # query id -> document id -> score
Qrels = dict[str, dict[str, int]]


@dataclass
class Dataset:
    corpus: dict[str, str]  # document id -> text (title and body)
    queries: dict[str, str]
    qrels: Qrels

    @property
    def judged_queries(self) -> list[str]:
        return [qid for qid in self.queries if qid in self.qrels]


def load_dataset(directory: str | Path, split: str = "test") -> Dataset:
    root = Path(directory)
    for name in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
        if not (root / name).exists():
            raise RerankdError(f"{root} is not a BEIR-format dataset: {name} is missing")
    corpus = {}
    for record in _read_jsonl(root / "corpus.jsonl"):
        title, text = str(record.get("title") or "").strip(), str(record.get("text") or "")
        corpus[str(record["_id"])] = f"{title} {text}".strip() if title else text
    queries = {str(r["_id"]): str(r["text"]) for r in _read_jsonl(root / "queries.jsonl")}
    qrels: Qrels = {}
    with open(root / "qrels" / f"{split}.tsv", encoding="utf-8") as stream:
        for row in csv.reader(stream, delimiter="\t"):
            if len(row) < 3 or not row[2].lstrip("-").isdigit():
                continue  # the header, or a malformed line
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return Dataset(corpus, queries, qrels)


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    records = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    raise RerankdError(f"{path} line {number} is not JSON") from None
    return records


def read_run(path: str | Path) -> Run:
    """A TREC run file: ``qid Q0 docid rank score tag`` per line."""
    run: Run = {}
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 5:
                raise RerankdError(f"{path} line {number} is not a TREC run line")
            run.setdefault(fields[0], {})[fields[2]] = float(fields[4])
    return run


def write_run(run: Run, path: str | Path, tag: str) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        for qid, scores in run.items():
            ranked = sorted(scores.items(), key=lambda item: -item[1])
            for rank, (docid, score) in enumerate(ranked, start=1):
                stream.write(f"{qid} Q0 {docid} {rank} {score:.6f} {tag}\n")


def top_k(run: Run, k: int) -> Run:
    return {
        qid: dict(sorted(scores.items(), key=lambda item: -item[1])[:k])
        for qid, scores in run.items()
    }
