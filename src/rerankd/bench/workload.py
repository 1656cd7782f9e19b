"""A seeded workload of real text that is on every machine: Python's own documentation.

``pydoc_data.topics`` ships with CPython (the text of ``help()`` topics). Documents are cut
from it at three lengths (short, medium, long) and shuffled, so batches meet the
mixed lengths that real retrieval results have.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# Words per document: roughly 40, 200 and 600 tokens of English prose and code.
LENGTHS_IN_WORDS = {"short": 30, "medium": 150, "long": 450}


@dataclass(frozen=True)
class BenchRequest:
    query: str
    documents: list[str]


def python_docs_paragraphs() -> list[str]:
    from pydoc_data.topics import topics

    paragraphs = []
    for text in topics.values():
        for paragraph in re.split(r"\n\s*\n", text):
            words = paragraph.split()
            if len(words) >= 8:
                paragraphs.append(" ".join(words))
    return paragraphs


def build_workload(queries: int, documents_per_query: int, seed: int = 0) -> list[BenchRequest]:
    """``queries`` requests, each one query against documents of mixed lengths."""
    from pydoc_data.topics import topics

    rng = random.Random(seed)
    words = " ".join(python_docs_paragraphs()).split()
    topic_names = sorted(topics)
    kinds = list(LENGTHS_IN_WORDS)
    requests = []
    for number in range(queries):
        topic = topic_names[rng.randrange(len(topic_names))].replace("-", " ")
        query = f"How do {topic} work in Python? (request {number})"
        documents = []
        for index in range(documents_per_query):
            length = LENGTHS_IN_WORDS[kinds[index % len(kinds)]]
            start = rng.randrange(len(words) - length)
            documents.append(" ".join(words[start : start + length]))
        rng.shuffle(documents)
        requests.append(BenchRequest(query, documents))
    return requests
