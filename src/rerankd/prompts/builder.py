"""The one algorithm every prompt format shares: fit the query, then fit, cut, refuse or
chunk each document, and assemble the ids.

A model family (Qwen3-Reranker, cross-encoder, bi-encoder) says only how its query side
is built and which ids surround a document. Cutting, refusing and splitting over-long
documents into overlapping windows, and assembling each prompt, happen here, once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from rerankd.errors import InputTooLongError
from rerankd.options import OnOverflow, RankOptions
from rerankd.prompts.prompt import Prompt, Span
from rerankd.prompts.tokenizer import TextTokenizer

DEFAULT_MAX_CHUNKS = 16
# Neighbouring windows of a chunked document share this fraction of their tokens, so a
# passage cut at a window's edge is whole in the next one.
CHUNK_OVERLAP = 0.125


@dataclass(frozen=True, slots=True)
class EncodedDocument:
    ids: list[int]
    offsets: list[Span]  # character span of each token in the original document


class PromptBuilder(ABC):
    """Turns (query, documents) into a model's prompts, fitted to ``max_length``."""

    version: str  # part of every cache key: bumped when prompts change
    # Ids around each document's own tokens, and text put before each document's text.
    document_open: tuple[int, ...] = ()
    document_close: tuple[int, ...] = ()
    document_text_prefix: str = ""

    def __init__(self, tokenizer: TextTokenizer, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length

    def build(
        self, query: str, documents: Sequence[str], options: RankOptions | None = None
    ) -> list[Prompt]:
        """Prompts for one query against many documents, in document order.

        A document over its budget is cut at its tail (the default), refused
        (``on_overflow="error"``), or, with ``long_docs="chunk"``, split into windows that
        each get a prompt. ``options.max_length`` can only lower the builder's own limit.
        """
        options = options or RankOptions()
        limit = min(self.max_length, options.max_length or self.max_length)
        on_overflow: OnOverflow = options.on_overflow or "truncate"
        if options.max_tokens_per_query is not None:
            query = self._fit_query(query, options.max_tokens_per_query, on_overflow)
        shared, room = self.query_side(query, options.instruction, limit, on_overflow)
        room = max(room, 0)
        if options.max_tokens_per_doc is not None:
            room = min(room, options.max_tokens_per_doc)
        max_chunks = (options.max_chunks_per_doc or DEFAULT_MAX_CHUNKS) if options.chunked else 0
        prompts: list[Prompt] = []
        for index, document in enumerate(self.encode_documents(documents)):
            ids = document.ids
            if len(ids) <= room:
                prompts.append(self.assemble(shared, ids, index))
            elif on_overflow == "error":
                raise InputTooLongError(
                    f"document {index} takes {len(ids)} tokens, over the {room} it may take "
                    "(max_length less the template and the query, or max_tokens_per_doc)"
                )
            elif not max_chunks or room <= 0:
                prompts.append(self.assemble(shared, ids[:room], index, truncated=True))
            else:
                prompts.extend(self._chunks(shared, document, index, room, max_chunks))
        return prompts

    def encode_documents(self, documents: Sequence[str]) -> list[EncodedDocument]:
        """User text tokenized as text, with offsets into each original document."""
        shift = len(self.document_text_prefix)
        encodings = self.tokenizer.encode_batch(
            [self.document_text_prefix + document for document in documents]
        )
        return [
            EncodedDocument(
                list(encoding.ids),
                [(max(start - shift, 0), max(end - shift, 0)) for start, end in encoding.offsets],
            )
            for encoding in encodings
        ]

    def assemble(
        self, shared: tuple[int, ...], document_ids: Sequence[int], index: int,
        truncated: bool = False, span: Span | None = None,
    ) -> Prompt:
        """The prompt for the query side and (part of) one document."""
        own = (*self.document_open, *document_ids, *self.document_close)
        return Prompt(shared, own, truncated, index, span)

    @abstractmethod
    def query_side(
        self, query: str, instruction: str | None, limit: int, on_overflow: OnOverflow
    ) -> tuple[tuple[int, ...], int]:
        """The shared ids of the query side, and how many document tokens fit after it
        (``limit`` less the query side and the ids around the document)."""

    def _chunks(
        self, shared: tuple[int, ...], document: EncodedDocument, index: int, room: int,
        max_chunks: int,
    ) -> list[Prompt]:
        overlap = min(int(room * CHUNK_OVERLAP), room - 1)
        stride = room - overlap
        starts = list(range(0, max(len(document.ids) - overlap, 1), stride))
        cut = len(starts) > max_chunks
        prompts = []
        for start in starts[:max_chunks]:
            end = min(start + room, len(document.ids))
            span = (document.offsets[start][0], document.offsets[end - 1][1])
            prompts.append(self.assemble(
                shared, document.ids[start:end], index, truncated=cut, span=span
            ))
        return prompts

    def _fit_query(self, query: str, max_query_tokens: int, on_overflow: OnOverflow) -> str:
        encoding = self.tokenizer.encode(query)
        if len(encoding.ids) <= max_query_tokens:
            return query
        if on_overflow == "error":
            raise InputTooLongError(
                f"the query takes {len(encoding.ids)} tokens, over max_tokens_per_query "
                f"{max_query_tokens}"
            )
        return query[: encoding.offsets[max_query_tokens - 1][1]]
