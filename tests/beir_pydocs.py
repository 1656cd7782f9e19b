"""A BEIR-format dataset from Python's own documentation, with queries and judgements
written here. Run it to write the set: ``python -m tests.beir_pydocs OUT_DIR``.

The corpus is every paragraph of ``pydoc_data.topics`` (it ships with CPython). Each
query is a paraphrase of a need a help topic answers; a paragraph of that topic is
judged 2 when it names one of the query's key terms, 1 otherwise; every other
paragraph is unjudged (0).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# (query, help topic, key terms)
JUDGED_QUERIES = [
    ("how do I make sure a file gets closed automatically when a block ends", "with",
     ["__enter__", "__exit__", "context manager"]),
    ("what happens when a generator function pauses and hands a value back", "yield",
     ["generator"]),
    ("catch an error and run cleanup code no matter what happens", "try",
     ["finally", "except"]),
    ("leave a loop early before it finishes", "break", ["break"]),
    ("skip the rest of the current loop iteration and go on", "continue", ["continue"]),
    ("small anonymous one-line functions", "lambda", ["lambda"]),
    ("remove a name binding or delete an item", "del", ["del"]),
    ("check a condition while debugging and stop when it is false", "assert",
     ["assert"]),
    ("change a variable of the enclosing function from a nested function", "nonlocal",
     ["nonlocal"]),
    ("make a module level variable writable inside a function", "global", ["global"]),
    ("how are floating point numbers written in source code", "floating",
     ["floating", "exponent"]),
    ("text methods such as split, join and strip", "string-methods",
     ["split", "join", "strip"]),
    ("take part of a sequence with start, stop and step", "slicings", ["slice"]),
    ("mapping methods like get, items and update", "typesmapping",
     ["get(", "items(", "update("]),
    ("which values count as false in a condition", "truth", ["false"]),
    ("define a class that inherits from base classes", "class", ["base", "inherit"]),
    ("bring code from another module or package into a program", "import",
     ["package", "module"]),
    ("signal an error and chain it to the exception that caused it", "raise",
     ["__cause__", "from"]),
    ("change a list in place with append, insert or sort", "typesseq-mutable",
     ["append", "insert", "sort"]),
    ("padding, alignment and precision in format specifications", "formatstrings",
     ["precision", "fill", "width"]),
    ("suspend a coroutine until a result is ready", "await", ["coroutine", "await"]),
    ("raw and bytes literal prefixes", "strings", ["raw", "bytes"]),
]


def topic_paragraphs() -> dict[str, list[str]]:
    from pydoc_data.topics import topics

    return {
        topic: [
            " ".join(paragraph.split())
            for paragraph in re.split(r"\n\s*\n", text)
            if len(paragraph.split()) >= 8
        ]
        for topic, text in sorted(topics.items())
    }


def write_dataset(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    paragraphs = topic_paragraphs()
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as corpus:
        for topic, texts in paragraphs.items():
            for number, text in enumerate(texts):
                record = {"_id": f"{topic}-{number}", "title": "", "text": text}
                corpus.write(json.dumps(record) + "\n")
    with open(out / "queries.jsonl", "w", encoding="utf-8") as queries, open(
        out / "qrels" / "test.tsv", "w", encoding="utf-8"
    ) as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for number, (query, topic, terms) in enumerate(JUDGED_QUERIES):
            qid = f"q{number}"
            queries.write(json.dumps({"_id": qid, "text": query}) + "\n")
            for index, text in enumerate(paragraphs[topic]):
                grade = 2 if any(term.lower() in text.lower() for term in terms) else 1
                qrels.write(f"{qid}\t{topic}-{index}\t{grade}\n")
    return out


if __name__ == "__main__":
    print(write_dataset(sys.argv[1]))
